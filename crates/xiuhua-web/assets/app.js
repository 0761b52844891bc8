// xiuhua's own page script, served as /static/app.js (the Content-Security-Policy allows no
// inline script). Import page: polls the job named by #job-progress[data-job] and opens its
// report when it has ended.
(function () {
  "use strict";
  var progress = document.getElementById("job-progress");
  if (!progress) { return; }
  var id = progress.getAttribute("data-job");
  if (!id) { return; }
  function poll() {
    fetch("/imports/jobs/" + encodeURIComponent(id), { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (j) {
        document.getElementById("job-rows").textContent = j.rows;
        if (j.done) {
          location.href = "/imports/jobs/" + encodeURIComponent(id) + "/report";
        } else {
          setTimeout(poll, 500);
        }
      })
      .catch(function () { setTimeout(poll, 1500); });
  }
  poll();
})();
