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
  document.addEventListener("htmx:responseError", function (event) {
    var box = document.getElementById("panel-messages");
    if (!box) { return; }
    var list = document.createElement("ul");
    list.className = "messagelist";
    var item = document.createElement("li");
    item.className = "error";
    item.textContent = "The server could not complete the request (" +
      event.detail.xhr.status + "). Reload the page and try again.";
    list.appendChild(item);
    box.replaceChildren(list);
  });
})();
