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

// Survey form (入户核查): posts the form to its preview address as it is filled and shows the
// checklists it answers in #checklists (the verdicts live); saving works without this script.
(function () {
  "use strict";
  var form = document.getElementById("survey-form");
  var target = document.getElementById("checklists");
  if (!form || !target) { return; }
  var url = form.getAttribute("data-preview");
  var timer = null;
  var seq = 0;
  function refresh() {
    var mine = ++seq;
    var body = new URLSearchParams(new FormData(form));
    fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: body.toString()
    })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (html !== null && mine === seq) {
          target.innerHTML = html;
          target.setAttribute("data-preview-seq", String(mine));
        }
      })
      .catch(function () {});
  }
  function later() {
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(refresh, 250);
  }
  form.addEventListener("change", later);
  form.addEventListener("input", later);
})();
