// Stylist's page script: previews chosen images, follows a job's progress by
// server-sent events and draws its loss curve. No libraries, no build step.
"use strict";

function previewFiles() {
  for (const input of document.querySelectorAll('input[type=file]')) {
    input.addEventListener('change', () => {
      const img = input.parentElement.querySelector('img.preview');
      if (!img || !input.files.length) return;
      img.src = URL.createObjectURL(input.files[0]);
      img.hidden = false;
    });
  }
}

function drawLosses(canvas, losses, unit) {
  const ctx = canvas.getContext('2d');
  const w = canvas.width, h = canvas.height, pad = 30;
  ctx.clearRect(0, 0, w, h);
  ctx.strokeStyle = '#999';
  ctx.strokeRect(pad, 5, w - pad - 5, h - pad - 5);
  if (!losses.length) return;
  // A log scale: the loss falls by orders of magnitude in the first iterations.
  const ys = losses.map(v => Math.log10(Math.max(v, 1e-30)));
  const lo = Math.min(...ys), hi = Math.max(...ys);
  const span = hi - lo || 1;
  const x = i => pad + (losses.length === 1 ? 0 : i / (losses.length - 1)) * (w - pad - 10);
  const y = v => 5 + (1 - (v - lo) / span) * (h - pad - 10);
  ctx.strokeStyle = '#b5452b';
  ctx.lineWidth = 2;
  ctx.beginPath();
  ys.forEach((v, i) => (i ? ctx.lineTo(x(i), y(v)) : ctx.moveTo(x(i), y(v))));
  ctx.stroke();
  ctx.fillStyle = '#333';
  ctx.font = '11px sans-serif';
  ctx.fillText(Math.pow(10, hi).toExponential(2), 2, 14);
  ctx.fillText(Math.pow(10, lo).toExponential(2), 2, h - pad);
  ctx.fillText(unit + ' ' + losses.length, w / 2 - 20, h - 8);
}

function seconds(s) {
  s = Math.round(s);
  return s < 60 ? s + ' s' : Math.floor(s / 60) + ' min ' + (s % 60) + ' s';
}

function followJob(section) {
  const $ = id => document.getElementById(id);
  const canvas = $('losses');
  const unit = section.dataset.sweep ? 'picture' : 'iteration';
  drawLosses(canvas, JSON.parse(canvas.dataset.losses || '[]'), unit);
  const done = ['done', 'failed', 'canceled', 'interrupted'];
  if (done.includes($('state').textContent)) return;
  const source = new EventSource(section.dataset.events);
  let events = 0;
  source.addEventListener('status', e => {
    const st = JSON.parse(e.data);
    events++;
    section.dataset.eventsSeen = events;
    $('state').textContent = st.state;
    $('state').className = 'state ' + st.state;
    $('position').textContent = st.position ? 'position ' + st.position + ' in the queue' : '';
    $('progress-text').textContent = (st.sweep ? 'picture ' : 'iteration ') + st.iteration + ' of ' + st.iterations +
      (st.state === 'running' ? ' · evaluation ' + st.evaluation + (st.loss ? ' · loss ' + st.loss.toExponential(3) : '') : '');
    $('eta').textContent = st.state === 'running' && st.eta_s > 0 ? seconds(st.eta_s) + ' left' : '';
    $('progress').max = st.iterations;
    $('progress').value = st.iteration;
    $('message').textContent = st.message || '';
    if (st.image) {
      $('current').src = st.image;
      $('current').hidden = false;
    }
    drawLosses(canvas, st.losses, unit);
    if (done.includes(st.state)) {
      source.close();
      $('cancel-form').hidden = true;
      $('download').hidden = !st.image;
      $('download-gif').hidden = !st.gif;
      // A sweep's page lists its pictures' results: show them.
      if (st.sweep) location.reload();
    }
  });
  source.onerror = () => {
    if (done.includes($('state').textContent)) source.close();
  };
}

document.addEventListener('DOMContentLoaded', () => {
  previewFiles();
  const job = document.getElementById('job');
  if (job) followJob(job);
});
