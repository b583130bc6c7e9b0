// The dashboard's only script of its own. The Content-Security-Policy runs no inline
// handlers, so buttons that destroy something ask through data-confirm instead.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-confirm]");
  if (button && !window.confirm(button.dataset.confirm)) {
    event.preventDefault();
  }
});

// A button with data-copy="<id>" copies that field's value (an API key shown once).
// The clipboard API needs a secure context; elsewhere the field is selected so that
// Ctrl+C or a long press copies it.
document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-copy]");
  const field = button && document.getElementById(button.dataset.copy);
  if (!field) {
    return;
  }
  field.select();
  try {
    await navigator.clipboard.writeText(field.value);
    button.textContent = button.dataset.copied || "Copied";
  } catch {
    button.textContent = "Press Ctrl+C to copy";
  }
});

// A checkbox with data-select-all="<name>" ticks or clears every box of that name in its
// form (the contact list's page); it follows them when they are ticked one by one.
document.addEventListener("change", (event) => {
  const box = event.target;
  const form = box.form;
  if (!form || box.type !== "checkbox") {
    return;
  }
  if (box.dataset.selectAll) {
    for (const each of form.querySelectorAll(`input[name="${box.dataset.selectAll}"]`)) {
      each.checked = box.checked;
    }
    return;
  }
  const all = form.querySelector(`input[data-select-all="${box.name}"]`);
  if (all) {
    const boxes = [...form.querySelectorAll(`input[name="${box.name}"]`)];
    const ticked = boxes.filter((each) => each.checked).length;
    all.checked = ticked === boxes.length;
    all.indeterminate = ticked > 0 && ticked < boxes.length;
  }
});
