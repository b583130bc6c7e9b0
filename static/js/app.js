// The dashboard's only script of its own. The Content-Security-Policy runs no inline
// handlers, so buttons that destroy something ask through data-confirm instead.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-confirm]");
  if (button && !window.confirm(button.dataset.confirm)) {
    event.preventDefault();
  }
});
