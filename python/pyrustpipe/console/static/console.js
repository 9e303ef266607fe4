// The console's only script: a job page follows its job live over server-sent events.
"use strict";
(function () {
  const box = document.getElementById("job");
  if (!box || !window.EventSource) return;
  if (["passed", "failed", "cancelled", "error"].includes(box.dataset.status)) return;
  const text = (id, value) => { const el = document.getElementById(id); if (el) el.textContent = value; };
  const num = (n) => Number(n).toLocaleString("en-US");
  const source = new EventSource("/api/jobs/" + encodeURIComponent(box.dataset.job) + "/events");
  source.onmessage = (event) => {
    const job = JSON.parse(event.data);
    if (!job.id) return;
    const p = job.progress;
    text("job-status", job.status);
    text("job-rows", num(p.rows));
    text("job-bytes", num(p.bytes_done) + " of " + num(p.bytes_total));
    text("job-rate", num(Math.round(p.rows_per_s)) + " rows/s");
    const bar = document.getElementById("job-progress");
    if (bar) { bar.max = p.bytes_total || 1; bar.value = p.bytes_done; }
    if (job.result) text("job-failing", job.result.failing_rules.join(", ") || "none");
    if (job.error) text("job-failing", job.error);
    if (job.run_id) {
      const cell = document.getElementById("job-run");
      cell.textContent = "";
      const link = document.createElement("a");
      link.href = "/runs/" + encodeURIComponent(job.run_id);
      link.textContent = job.run_id;
      cell.appendChild(link);
    }
    box.dataset.status = job.status;
    if (["passed", "failed", "cancelled", "error"].includes(job.status)) {
      const form = document.getElementById("cancel-form");
      if (form) form.remove();
    }
  };
  source.addEventListener("end", () => source.close());
})();
