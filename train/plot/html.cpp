#include "zoograd/train/plot/html.h"

namespace zg {

std::string xml_escape(const std::string& s) {
  std::string r;
  for (char c : s) {
    switch (c) {
      case '&': r += "&amp;"; break;
      case '<': r += "&lt;"; break;
      case '>': r += "&gt;"; break;
      case '"': r += "&quot;"; break;
      default: r += c;
    }
  }
  return r;
}

std::string page_check_script() {
  return R"(<script>
(() => {
  const check = () => {
    const imgs = [...document.images];
    const broken = imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.getAttribute("src"));
    document.body.dataset.images = (imgs.length - broken.length) + " of " + imgs.length + " loaded";
    const old = document.getElementById("zg-missing");
    if (old) old.remove();
    if (broken.length) document.body.insertAdjacentHTML("afterbegin", "<p id='zg-missing' style='color:#b00'>missing: " + broken.join(", ") + "</p>");
    const scales = imgs.filter(i => i.naturalWidth > 0 && i.offsetParent).map(i => i.clientWidth / i.naturalWidth);
    document.body.dataset.smallestImageScale = scales.length ? Math.min(...scales).toFixed(3) : "1";
    const over = [...document.querySelectorAll("h1,h2,h3,p,td,th,label,button,span,figcaption,li,output,select")]
      .filter(e => e.offsetParent && e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX !== "auto")
      .map(e => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + ": " + e.textContent.trim().slice(0, 40));
    for (const t of document.querySelectorAll("svg text")) {
      const box = t.getBoundingClientRect(), frame = t.ownerSVGElement.getBoundingClientRect();
      if (box.left < frame.left - 1 || box.right > frame.right + 1 || box.top < frame.top - 1 || box.bottom > frame.bottom + 1)
        over.push("svg text: " + t.textContent.slice(0, 40));
    }
    if (document.documentElement.scrollWidth > document.documentElement.clientWidth + 1) over.push("the page is wider than the window");
    document.body.dataset.overflow = over.length ? over.join(" | ") : "none";
  };
  window.addEventListener("load", check);
  document.addEventListener("zg-drawn", check);
})();
</script>
)";
}

std::string page_style() {
  return "body{font-family:'DejaVu Sans',sans-serif;margin:1.2em;max-width:1240px;line-height:1.4}"
         "img{max-width:100%;height:auto;border:1px solid #ddd}"
         "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
         "td:first-child,th:first-child{text-align:left}figure{margin:0.6em 0}"
         "figcaption{font-size:0.9em;color:#444}.row{display:flex;flex-wrap:wrap;gap:10px;align-items:flex-start}";
}

std::string format_links(const std::string& stem, const std::vector<ImageFormat>& formats) {
  std::string links;
  for (ImageFormat f : formats) {
    if (f == ImageFormat::png) continue;
    const std::string ext = extension(f);
    std::string upper;
    for (char c : ext) upper += static_cast<char>(c - 'a' + 'A');
    links += std::string(links.empty() ? "" : " · ") + "<a href=\"" + xml_escape(stem) + "." + ext + "\">" + upper + "</a>";
  }
  return links;
}

}  // namespace zg
