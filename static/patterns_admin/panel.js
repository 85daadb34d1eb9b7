/* Control panel behaviour on top of htmx. Everything works without it: links and forms keep
   their href / method, this file only improves the htmx experience. */
(function () {
  "use strict";
  function configure() {
    if (!window.htmx) { return; }
    // Swap 4xx answers too: the 403 and 400 fragments explain what went wrong in place.
    // 5xx are not swapped; the request is marked as an error (see htmx:responseError).
    window.htmx.config.responseHandling = [
      { code: "204", swap: false },
      { code: "[23]..", swap: true },
      { code: "4..", swap: true, error: false },
      { code: "...", swap: false, error: true },
    ];
    window.htmx.config.historyCacheSize = 0;
  }
  configure();
  // Copy buttons: <button data-copy="element-id">. The clipboard API exists only on HTTPS and
  // localhost; elsewhere the text is selected so that Ctrl+C copies it.
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-copy]") : null;
    if (!button) { return; }
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source) { return; }
    function selectText() {
      var range = document.createRange();
      range.selectNodeContents(source);
      var selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      button.textContent = "Selected: press Ctrl+C";
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(source.textContent).then(
        function () { button.textContent = "Copied"; },
        selectText
      );
    } else {
      selectText();
    }
  });
  function showMessage(text, level) {
    var box = document.getElementById("panel-messages");
    if (!box) { return; }
    var list = document.createElement("ul");
    list.className = "messagelist";
    var item = document.createElement("li");
    item.className = level;
    item.textContent = text;
    list.appendChild(item);
    box.replaceChildren(list);
  }
  // A poll ("every Ns" trigger: the live tail, the home page's refresh) that fails is replaced
  // by a notice saying so: htmx stops polling an element that left the page, and the operator
  // knows the view is no longer live instead of watching a silently frozen one.
  function stopPolling(elt, why) {
    var trigger = elt && elt.getAttribute ? elt.getAttribute("hx-trigger") || "" : "";
    if (trigger.indexOf("every ") === -1) { return false; }
    var notice = document.createElement("p");
    notice.className = "panel-stopped";
    notice.setAttribute("role", "status");
    notice.setAttribute("data-stopped", "1");
    notice.textContent = "Live updates stopped: " + why + " Reload the page to resume.";
    if (elt.id) { notice.id = elt.id; }
    elt.replaceWith(notice);
    return true;
  }
  document.addEventListener("htmx:responseError", function (event) {
    var why = "the server answered " + event.detail.xhr.status + ".";
    if (stopPolling(event.detail.elt, why)) { return; }
    showMessage("The server could not complete the request (" +
      event.detail.xhr.status + "). Reload the page and try again.", "error");
  });
  document.addEventListener("htmx:sendError", function (event) {
    var why = "the server cannot be reached.";
    if (stopPolling(event.detail.elt, why)) { return; }
    showMessage("The server cannot be reached. Check the connection and try again.", "error");
  });
  // A filter form's empty fields are left out of the query, so the URL htmx pushes is the
  // canonical one (patterns_admin/querystring.py; the server says so with HX-Push-Url too).
  document.addEventListener("htmx:configRequest", function (event) {
    var elt = event.detail.elt;
    if (!elt || !elt.classList || !elt.classList.contains("panel-filters")) { return; }
    var params = event.detail.parameters;
    var names = params instanceof FormData ? Array.from(params.keys()) : Object.keys(params);
    names.forEach(function (name) {
      var value = params instanceof FormData ? params.get(name) : params[name];
      if (value === "" || value === null || value === undefined) {
        if (params instanceof FormData) { params.delete(name); } else { delete params[name]; }
      }
    });
  });
  // The live tail swaps a new "of N" into the replay form (#replay-last, out of band): keep
  // the input's maximum in step, so a sequence the tail just brought can be replayed.
  document.addEventListener("htmx:afterSettle", function () {
    var last = document.getElementById("replay-last");
    var input = document.getElementById("replay-at");
    if (last && input && last.dataset.last) { input.max = last.dataset.last; }
  });
  // A list's live refresh brings new facet counts (inside #results); the filter form's select
  // above it labels its options with the same counts ("failed (12)"): keep them in step.
  document.addEventListener("htmx:afterSettle", function () {
    document.querySelectorAll(".panel-facet[data-facet]").forEach(function (facet) {
      var select = document.querySelector("form.panel-filters select[name='" + facet.dataset.facet + "']");
      if (!select) { return; }
      facet.querySelectorAll("[data-value]").forEach(function (item) {
        var count = item.querySelector(".panel-facet-count");
        var option = Array.from(select.options).find(function (o) { return o.value === item.dataset.value; });
        if (!count || !option) { return; }
        option.textContent = option.textContent.replace(/ \([^()]*\)$/, "") + " (" + count.textContent + ")";
      });
    });
  });
  // The object list's "select all" box ticks every object on the page (the bulk preview).
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!box.classList || !box.classList.contains("pa-select-all")) { return; }
    box.closest("table").querySelectorAll("input[name=ids]").forEach(function (one) {
      one.checked = box.checked;
    });
  });
  // The answer to a stale CSRF token (patterns_admin/views/errors.py) carries the current one:
  // put it where the next request reads it, so trying again works without a reload.
  document.addEventListener("panelCsrfRefresh", function (event) {
    var token = event.detail && event.detail.token;
    if (!token) { return; }
    document.body.setAttribute("hx-headers", JSON.stringify({ "x-csrftoken": token }));
    document.querySelectorAll("input[name=csrfmiddlewaretoken]").forEach(function (input) {
      input.value = token;
    });
  });
})();
