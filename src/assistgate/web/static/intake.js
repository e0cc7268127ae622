// The intake form: one key sends it, from any field, and a refused form shows its problem first.
"use strict";
(function () {
  const form = document.querySelector("form.intake");
  if (!form) return;
  const summary = document.getElementById("error-summary");
  if (summary) summary.focus();
  form.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || event.isComposing) return;
    const target = event.target;
    const inText = target.tagName === "TEXTAREA";
    // Enter in a text box makes a new line; Ctrl+Enter (or Cmd+Enter) sends from there.
    if (inText && !(event.ctrlKey || event.metaKey)) return;
    // Text inputs already send on Enter; checkboxes and lists do not by themselves.
    if (inText || target.tagName === "SELECT" || target.type === "checkbox") {
      event.preventDefault();
      form.requestSubmit();
    }
  });
})();
