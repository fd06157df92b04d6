#include "train/html.h"

namespace zg {

std::string image_check_script() {
  return R"(<script>
window.addEventListener("load", () => {
  const imgs = [...document.images];
  const broken = imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.getAttribute("src"));
  document.body.dataset.images = (imgs.length - broken.length) + " of " + imgs.length + " loaded";
  if (broken.length) document.body.insertAdjacentHTML("afterbegin", "<p style='color:#b00'>missing: " + broken.join(", ") + "</p>");
});
</script>
)";
}

}  // namespace zg
