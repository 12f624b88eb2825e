export default function ({ parentElement, data }) {
  parentElement.innerHTML = `<div class="cmp" style="width:${data.width}px;height:${data.height}px">
    <img class="now" alt="Erased"><img class="was" alt="Original">
    <span class="tag l">Original</span><span class="tag r">Erased</span></div>
    <input type="range" min="0" max="100" value="50" aria-label="Original and erased">`;
  const [now, was] = parentElement.querySelectorAll("img");
  const range = parentElement.querySelector("input");
  now.src = data.now;
  was.src = data.was;
  const show = () => { was.style.clipPath = `inset(0 ${100 - range.value}% 0 0)`; };
  range.addEventListener("input", show);
  show();
}
