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
