// Narrow screens: a tap on a figure that the column shrinks shows it at its full size
// (its container scrolls sideways); another tap fits it to the column again.
document.addEventListener("click", function (event) {
  var img = event.target.closest &&
    event.target.closest("div.cell_output img, .rectified-gallery img, img.rw-frame");
  if (!img) { return; }
  if (img.classList.contains("rectified-zoomed") || img.naturalWidth > img.clientWidth) {
    img.classList.toggle("rectified-zoomed");
  }
});
