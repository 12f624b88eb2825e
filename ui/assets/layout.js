export default function ({ parentElement, data, setStateValue }) {
  // Only a change is reported: each report reruns the page, and a rerun can swallow a click.
  const report = () => {
    const width = Math.min(Math.floor(parentElement.getBoundingClientRect().width), data.most);
    if (width > 0 && width !== data.known) setStateValue("width", width);
  };
  const observer = new ResizeObserver(report);
  observer.observe(parentElement);
  const hideToolbars = () => {
    for (const host of document.querySelectorAll('[class*="st-key-eraser_canvas"] *')) {
      const root = host.shadowRoot;
      if (root && !root.querySelector("style[data-eraser]")) {
        const style = document.createElement("style");
        style.dataset.eraser = "";
        style.textContent = ".dc-toolbar { display: none !important; }";
        root.appendChild(style);
      }
    }
  };
  const timer = setInterval(hideToolbars, 150);
  return () => { observer.disconnect(); clearInterval(timer); };
}
