// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";
  // Open the folded branch that holds the post named in the URL fragment.
  function revealTarget() {
    var id = window.location.hash.slice(1);
    if (!/^post-\d+$/.test(id)) return;
    var el = document.getElementById(id);
    for (var node = el; node; node = node.parentElement) {
      if (node.tagName === "DETAILS") node.open = true;
    }
    if (el) el.classList.add("targeted");
  }
  window.addEventListener("hashchange", revealTarget);
  document.addEventListener("DOMContentLoaded", revealTarget);
})();
