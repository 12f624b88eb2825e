export default function ({ parentElement, data }) {
  // Streamlit puts this component's CSS in a <style> inside parentElement (a shadow root):
  // the view is a child of its own, since replacing parentElement's content would drop the CSS.
  let view = parentElement.querySelector(".view");
  if (!view) {
    view = document.createElement("div");
    view.className = "view";
    parentElement.appendChild(view);
  }
  view.innerHTML = `<div class="cmp" style="width:${data.width}px;height:${data.height}px">
    <img class="now" alt="Erased"><img class="was" alt="Original">
    <span class="tag l">Original</span><span class="tag r">Erased</span></div>
    <input type="range" min="0" max="100" value="50" aria-label="Original and erased">`;
  const [now, was] = view.querySelectorAll("img");
  const range = view.querySelector("input");
  now.src = data.now;
  was.src = data.was;
  const show = () => { was.style.clipPath = `inset(0 ${100 - range.value}% 0 0)`; };
  range.addEventListener("input", show);
  show();
}
