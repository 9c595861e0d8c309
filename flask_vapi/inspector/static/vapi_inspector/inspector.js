// Live updates of a call's timeline: while the call is live, fetch the timeline fragment
// every two seconds and put it in place. The page is complete without this script.
(function () {
  "use strict";
  var timeline = document.getElementById("timeline");
  if (!timeline || !timeline.dataset.src) { return; }
  var last = timeline.innerHTML;
  function refresh() {
    if (timeline.dataset.live !== "true") { return; }
    fetch(timeline.dataset.src, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html !== null && html !== last) {
          var open = Array.prototype.map.call(timeline.querySelectorAll("details[open]"), function (d) {
            return d.closest("li") ? d.closest("li").id + "/" + d.className : "";
          });
          timeline.innerHTML = html;
          last = html;
          open.forEach(function (key) {
            var parts = key.split("/");
            var item = parts[0] && document.getElementById(parts[0]);
            var details = item && item.querySelector("details." + parts[1]);
            if (details) { details.open = true; }
          });
          var state = timeline.querySelector(".call-live");
          if (state && state.dataset.live === "false") { // the end-of-call report arrived
            timeline.dataset.live = "false";
            var badge = document.querySelector("h1 .badge.live");
            if (badge) { badge.className = "badge"; badge.textContent = "ended"; }
          }
        }
      })
      .catch(function () { /* the next tick tries again */ })
      .then(function () { window.setTimeout(refresh, 2000); });
  }
  window.setTimeout(refresh, 2000);
})();
