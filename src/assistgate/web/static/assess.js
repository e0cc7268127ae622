// The assessment form: ask the server for the policy's answer on every change (no write), show
// it beside the facts, and allow approving only what the answer permits.
"use strict";
(function () {
  // A refused step comes back with its reason first, where the keyboard and screen readers are.
  const summary = document.getElementById("error-summary");
  if (summary) summary.focus();
  const form = document.getElementById("decide-form");
  if (!form) return;
  const url = form.dataset.assess;
  const body = document.getElementById("answer-body");
  const status = document.getElementById("answer-status");
  const preview = document.getElementById("decision-preview");
  const quiet = new Set(["note", "password", "approve"]);
  let timer = null;
  let sequence = 0;
  let permitted = new Set(
    Array.from(form.querySelectorAll("input[name=approve]:not(:disabled)"), (box) => box.value)
  );

  function words(value) { return value.replace(/_/g, " "); }

  function labelOf(box) {
    const label = box.closest("label");
    const why = label.querySelector(".why");
    return label.textContent.replace(why ? why.textContent : "", "").trim();
  }

  function syncDependent() {
    const none = form.elements["warrant.kind"].value === "none";
    form.querySelectorAll(".needs-warrant input, .needs-warrant select").forEach((el) => {
      el.disabled = none;
    });
    const noCrime = form.elements["crime.status"].value === "none";
    form.querySelectorAll(".needs-crime input").forEach((el) => { el.disabled = noCrime; });
  }

  function requested() {
    return new Set(
      Array.from(form.querySelectorAll("input[name=requested_actions]:checked"), (b) => b.value)
    );
  }

  function syncApprove() {
    const asked = requested();
    form.querySelectorAll(".approve-option").forEach((label) => {
      const action = label.dataset.action;
      const box = label.querySelector("input");
      const allowed = asked.has(action) && permitted.has(action);
      label.hidden = !asked.has(action);
      box.disabled = !allowed;
      if (!allowed) box.checked = false;
      label.querySelector(".why").textContent = allowed ? "" : "(not permitted)";
    });
    updatePreview();
  }

  function updatePreview() {
    const chosen = Array.from(form.querySelectorAll("input[name=approve]:checked"), labelOf);
    preview.textContent = chosen.length
      ? "Confirming records: send officers for " + chosen.join("; ") + "."
      : "Confirming records: decline, no officers sent.";
  }

  function markProblems(problems) {
    form.querySelectorAll("[aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
    problems.forEach((problem) => {
      const field = problem.field && form.elements[problem.field];
      if (field && field.setAttribute) field.setAttribute("aria-invalid", "true");
    });
  }

  async function assess() {
    const mine = ++sequence;
    const data = new FormData(form);
    quiet.forEach((name) => data.delete(name));
    let response;
    try {
      response = await fetch(url, {
        method: "POST", body: new URLSearchParams(data), credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
    } catch (error) {
      status.textContent = "The policy could not be checked: the server did not answer.";
      return;
    }
    if (mine !== sequence) return; // a newer check is on its way
    if (response.redirected && response.url.includes("/login")) {
      status.textContent = "Your session has ended: sign in again to go on.";
      return;
    }
    let result;
    try { result = await response.json(); } catch (error) { return; }
    if (mine !== sequence) return;
    body.innerHTML = result.html || "";
    markProblems(result.problems || []);
    if (result.ok) {
      const answer = result.answer;
      permitted = new Set(answer.permitted_actions);
      status.textContent = (answer.decision === "dispatch" ? "Policy: may send officers" :
        "Policy: decline, no officers") + ". Permitted: " +
        (answer.permitted_actions.map(words).join(", ") || "nothing") + ".";
    } else {
      permitted = new Set();
      status.textContent = "The facts do not hold together: " +
        (result.problems || []).map((p) => p.message).join("; ");
    }
    syncApprove();
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(assess, 120);
  }

  function changed(event) {
    if (quiet.has(event.target.name)) {
      updatePreview();
      return;
    }
    syncDependent();
    syncApprove();
    schedule();
  }

  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
  form.addEventListener("submit", (event) => {
    // "Check against the policy" (and Enter in a field) checks in place, without a reload.
    const submitter = event.submitter;
    if (!submitter || submitter.value !== "decide") {
      event.preventDefault();
      clearTimeout(timer);
      assess();
    }
  });
  syncDependent();
  syncApprove();
})();
