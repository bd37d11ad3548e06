// Roster team-management screen: progressive enhancement only. Every form
// works without this script; it selects rows in bulk, enables the bulk
// buttons when something is selected, asks for confirmations in a
// <dialog>, and copies the invitation link.
(function () {
  "use strict";

  function bulkForm() { return document.getElementById("bulk"); }

  function rowBoxes(form) {
    return Array.prototype.slice.call(form.querySelectorAll('input[type="checkbox"][name="id"]'));
  }

  function syncBulk() {
    var form = bulkForm();
    if (!form) { return; }
    var boxes = rowBoxes(form);
    var n = boxes.filter(function (b) { return b.checked; }).length;
    form.querySelectorAll("[data-bulk]").forEach(function (b) { b.disabled = n === 0; });
    var all = document.getElementById("select-all");
    if (all) {
      all.checked = n > 0 && n === boxes.length;
      all.indeterminate = n > 0 && n < boxes.length;
    }
  }

  function setupBulk() {
    var form = bulkForm();
    if (!form) { return; }
    var all = document.getElementById("select-all");
    if (all && rowBoxes(form).length > 0) {
      all.hidden = false;
      all.addEventListener("change", function () {
        rowBoxes(form).forEach(function (b) { b.checked = all.checked; });
        syncBulk();
      });
    }
    form.addEventListener("change", function (e) {
      if (e.target && e.target.name === "id") { syncBulk(); }
    });
    syncBulk();
  }

  // A submit button with data-confirm asks in the dialog first; confirming
  // submits the same form with the same button and confirm=yes, which the
  // server requires (without the script it answers a confirmation page).
  function setupConfirm() {
    var dialog = document.getElementById("confirm-dialog");
    if (!dialog || typeof dialog.showModal !== "function") { return; }
    var pending = null;
    document.addEventListener("click", function (e) {
      var btn = e.target.closest && e.target.closest("button[data-confirm]");
      if (!btn || !btn.form) { return; }
      e.preventDefault();
      pending = btn;
      document.getElementById("confirm-text").textContent = btn.getAttribute("data-confirm");
      dialog.returnValue = "";
      dialog.showModal();
      var cancel = dialog.querySelector('[value="cancel"]');
      if (cancel) { cancel.focus(); }
    });
    dialog.addEventListener("close", function () {
      var btn = pending;
      pending = null;
      if (!btn) { return; }
      if (dialog.returnValue !== "ok") { btn.focus(); return; }
      var form = btn.form;
      var input = form.querySelector('input[name="confirm"]');
      if (!input) {
        input = document.createElement("input");
        input.type = "hidden";
        input.name = "confirm";
        form.appendChild(input);
      }
      input.value = "yes";
      form.requestSubmit(btn);
    });
  }

  function setupCopy() {
    document.querySelectorAll("button[data-copy]").forEach(function (btn) {
      var target = document.getElementById(btn.getAttribute("data-copy"));
      if (!target || !navigator.clipboard) { return; }
      btn.hidden = false;
      btn.addEventListener("click", function () {
        navigator.clipboard.writeText(target.textContent.trim());
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    setupBulk();
    setupConfirm();
    setupCopy();
  });
})();
