export default function () {
  // Streamlit closes the sidebar after a page is chosen only when the browser calls itself a
  // phone; on any screen narrow enough that the open sidebar lies over the page, close it too.
  const closeIfCovering = () => {
    const sidebar = document.querySelector('[data-testid="stSidebar"]');
    const main = document.querySelector('[data-testid="stMain"]');
    if (!sidebar || !main || sidebar.dataset.collapsed !== "false") return;
    if (sidebar.getBoundingClientRect().right <= main.getBoundingClientRect().left) return;  // beside it
    // The button toggles: this runs after Streamlit's own handler, so it never reopens.
    sidebar.querySelector('[data-testid="stSidebarCollapseButton"] button')?.click();
  };
  const chosen = (event) => {
    if (event.target.closest('[data-testid="stSidebarNav"] a')) requestAnimationFrame(closeIfCovering);
  };
  document.addEventListener("click", chosen);
  return () => document.removeEventListener("click", chosen);
}
