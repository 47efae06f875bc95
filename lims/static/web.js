// Every htmx request carries the page's CSRF token; uploads show their progress; the language
// menu submits itself when a language is chosen; a refused htmx request shows why.
document.addEventListener("DOMContentLoaded", function () {
  var meta = document.querySelector('meta[name="csrf-token"]');
  document.body.addEventListener("htmx:configRequest", function (event) {
    if (meta && meta.content) { event.detail.headers["X-CSRF-Token"] = meta.content; }
  });
  document.body.addEventListener("htmx:xhr:progress", function (event) {
    var bar = document.getElementById("upload-progress");
    if (bar && event.detail.lengthComputable) {
      bar.hidden = false;
      bar.value = Math.round(event.detail.loaded / event.detail.total * 100);
    }
  });

  // a menu marked data-submit-on-change (the language) sends its form when it changes
  document.querySelectorAll("select[data-submit-on-change]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });

  // htmx leaves 4xx and 5xx answers unswapped: a request aimed at the whole page (an upload)
  // shows the page the server answered with, its error included; a request aimed at a part of
  // the page shows the answer's error in #request-error, and a part that loads itself
  // (hx-get, e.g. the alerts banner) is loaded again to show the state that refused it.
  var notice = document.getElementById("request-error");

  function show(text) {
    if (!notice) { return; }
    notice.textContent = text;
    notice.className = "error";
    notice.hidden = false;
    notice.scrollIntoView({block: "nearest"});
  }

  function reasonOf(xhr) {
    var type = xhr.getResponseHeader("Content-Type") || "";
    if (type.indexOf("html") >= 0) {
      var doc = new DOMParser().parseFromString(xhr.responseText, "text/html");
      var error = doc.querySelector("main .error[role=alert]:not(#request-error)");
      if (error && error.textContent.trim()) { return error.textContent.trim(); }
    } else if (type.indexOf("json") >= 0) {
      try {
        var detail = JSON.parse(xhr.responseText).detail;
        if (typeof detail === "string" && detail) { return detail; }
      } catch (ignored) { /* not JSON after all: the status below */ }
    }
    return notice ? notice.dataset.refused.replace("{status}", String(xhr.status)) : "";
  }

  document.body.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr;
    if (xhr.status < 400) { return; }
    if (event.detail.target === document.body) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
      return;
    }
    event.detail.shouldSwap = false;
    show(reasonOf(xhr));
    var region = event.detail.target;
    if (region && region.getAttribute("hx-get") && window.htmx) {
      window.htmx.ajax("GET", region.getAttribute("hx-get"), {target: region, swap: "innerHTML"});
    }
  });
  // the message stays until the user sends something else (not when a part reloads itself)
  document.body.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    if (notice && elt && /^(FORM|INPUT|SELECT|TEXTAREA|BUTTON)$/.test(elt.tagName)) {
      notice.hidden = true;
    }
  });
  document.body.addEventListener("htmx:sendError", function () {
    if (notice) { show(notice.dataset.unreachable); }
  });
});
