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
  // No fragment in the URL: go to the first post not read yet, if the page names one.
  function toFirstUnread() {
    if (window.location.hash) return;
    var link = document.querySelector("[data-first-unread]");
    var el = link && document.getElementById(link.getAttribute("data-first-unread"));
    if (el) el.scrollIntoView();
  }
  document.addEventListener("DOMContentLoaded", toFirstUnread);
  window.addEventListener("hashchange", revealTarget);
  document.addEventListener("DOMContentLoaded", revealTarget);
})();
