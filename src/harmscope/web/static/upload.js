// The upload page: send the file with a progress bar (bytes sent), then follow the ingest
// job's progress until it ends, then show its page (the reconciliation report). Without
// script the form posts normally and the job page refreshes itself.
(function () {
  "use strict";
  var bar = document.getElementById("upload-bar");
  var stage = document.getElementById("upload-stage");
  function show(text, fraction) {
    if (stage) { stage.textContent = text; }
    if (bar && fraction !== null) { bar.value = fraction; }
  }
  function follow(progressUrl, pageUrl) {
    fetch(progressUrl, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
      .then(function (r) { return r.json(); })
      .then(function (job) {
        if (job.status === "running") {
          show(job.stage, job.fraction);
          window.setTimeout(function () { follow(progressUrl, pageUrl); }, 400);
        } else {
          window.location.assign(pageUrl);
        }
      })
      .catch(function (err) { show("Could not follow the upload: " + err, null); });
  }
  var jobBox = document.getElementById("upload-job");
  if (jobBox && jobBox.dataset.status === "running") {
    var id = jobBox.dataset.job;
    follow("/upload/" + id + "/progress", "/upload/" + id);
    return;
  }
  var form = document.getElementById("upload-form");
  if (!form || !window.XMLHttpRequest || !window.FormData) { return; }
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var data = new FormData(form);
    var xhr = new XMLHttpRequest();
    document.getElementById("upload-progress").hidden = false;
    document.getElementById("upload-submit").disabled = true;
    xhr.open("POST", form.action);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("X-CSRF-Token", form.elements.csrf_token.value);
    xhr.upload.onprogress = function (e) {
      if (e.lengthComputable) { show("Sending the file: " + Math.round(100 * e.loaded / e.total) + "%", 0.5 * e.loaded / e.total); }
    };
    xhr.onload = function () {
      var body = {};
      try { body = JSON.parse(xhr.responseText); } catch (e) { body = {}; }
      if (xhr.status === 202 && body.job) {
        show("Checking and loading rows", 0.5);
        follow(body.progress, body.page);
      } else {
        var d = body.detail || {};
        show("The upload was refused: " + (d.problem || d || xhr.status) + (d.fix ? " (" + d.fix + ")" : ""), 0);
        document.getElementById("upload-submit").disabled = false;
      }
    };
    xhr.onerror = function () { show("The upload failed: the connection was lost.", 0); document.getElementById("upload-submit").disabled = false; };
    xhr.send(data);
  });
}());
