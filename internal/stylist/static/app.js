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

// chooseStyle keeps the painting's two ways apart: a style of the gallery
// paints instantly only, and a painting of one's own clears the gallery.
function chooseStyle() {
  const form = document.getElementById('job-form');
  if (!form || !document.getElementById('styles')) return;
  const instant = document.getElementById('effort-instant');
  for (const radio of form.querySelectorAll('input[name=styles]')) {
    radio.addEventListener('change', () => { if (radio.value && instant) instant.checked = true; });
  }
  const own = () => { const none = document.getElementById('style-none'); if (none) none.checked = true; };
  const file = document.getElementById('style');
  if (file) file.addEventListener('change', own);
  const bundled = document.getElementById('style-bundled');
  if (bundled) bundled.addEventListener('change', () => { if (bundled.value) own(); });
}

function drawLosses(canvas, losses, unit) {
  const ctx = canvas.getContext('2d');
  // The frame leaves room on the left for the axis labels and below for the
  // count, so that no label overlaps it.
  const w = canvas.width, h = canvas.height, left = 64, top = 8, right = 8, bottom = 24;
  const fw = w - left - right, fh = h - top - bottom;
  ctx.clearRect(0, 0, w, h);
  ctx.strokeStyle = '#999';
  ctx.lineWidth = 1;
  ctx.strokeRect(left, top, fw, fh);
  ctx.fillStyle = '#333';
  ctx.font = '11px sans-serif';
  if (!losses.length) {
    ctx.textAlign = 'center';
    ctx.fillText('no ' + unit + ' finished yet', left + fw / 2, top + fh / 2);
    ctx.textAlign = 'left';
    return;
  }
  // A log scale: the loss falls by orders of magnitude in the first iterations.
  const ys = losses.map(v => Math.log10(Math.max(v, 1e-30)));
  const lo = Math.min(...ys), hi = Math.max(...ys);
  const span = hi - lo || 1;
  const inset = 6;
  const x = i => left + inset + (losses.length === 1 ? (fw - 2 * inset) / 2 : i / (losses.length - 1) * (fw - 2 * inset));
  const y = v => top + inset + (hi === lo ? (fh - 2 * inset) / 2 : (1 - (v - lo) / span) * (fh - 2 * inset));
  ctx.strokeStyle = '#b5452b';
  ctx.fillStyle = '#b5452b';
  ctx.lineWidth = 2;
  ctx.beginPath();
  ys.forEach((v, i) => (i ? ctx.lineTo(x(i), y(v)) : ctx.moveTo(x(i), y(v))));
  ctx.stroke();
  // A dot for each point: one point is a dot, not an empty box.
  ys.forEach((v, i) => { ctx.beginPath(); ctx.arc(x(i), y(v), 2.5, 0, 2 * Math.PI); ctx.fill(); });
  ctx.fillStyle = '#333';
  ctx.textAlign = 'right';
  if (hi === lo) {
    ctx.fillText(Math.pow(10, hi).toExponential(2), left - 4, y(hi) + 4); // beside the one level
  } else {
    ctx.fillText(Math.pow(10, hi).toExponential(2), left - 4, top + 10);
    ctx.fillText(Math.pow(10, lo).toExponential(2), left - 4, top + fh);
  }
  ctx.textAlign = 'center';
  ctx.fillText(losses.length + ' ' + unit + (losses.length === 1 ? '' : 's'), left + fw / 2, h - 6);
  ctx.textAlign = 'left';
}

function seconds(s) {
  s = Math.round(s);
  return s < 60 ? s + ' s' : Math.floor(s / 60) + ' min ' + (s % 60) + ' s';
}

function followJob(section) {
  const $ = id => document.getElementById(id);
  const canvas = $('losses');
  const unit = section.dataset.sweep ? 'picture' : 'iteration';
  if (canvas) drawLosses(canvas, JSON.parse(canvas.dataset.losses || '[]'), unit);
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
    $('progress-text').textContent = st.instant ? '' : (st.sweep ? 'picture ' : 'iteration ') + st.iteration + ' of ' + st.iterations +
      (st.state === 'running' ? ' · evaluation ' + st.evaluation + (st.loss ? ' · loss ' + st.loss.toExponential(3) : '') : '');
    $('eta').textContent = st.state === 'running' && st.eta_s > 0 ? seconds(st.eta_s) + ' left' :
      done.includes(st.state) && st.elapsed_s > 0 ? 'took ' + seconds(st.elapsed_s) : '';
    $('progress').max = st.iterations;
    $('progress').value = st.iteration;
    $('message').textContent = st.message || '';
    if (st.image) {
      $('current').src = st.image;
      $('current').hidden = false;
      if (!st.instant && !done.includes(st.state) && $('caption')) $('caption').textContent = 'the picture so far';
    } else if (st.preview && !$('current').src.endsWith(st.preview)) {
      // The instant picture, until the first iteration replaces it.
      $('current').src = st.preview;
      $('current').hidden = false;
      section.dataset.preview = 'shown';
      if ($('caption')) $('caption').textContent = 'the instant picture; ' +
        (st.state === 'queued' ? 'the optimisation waits its turn' : 'the first iteration shows when it ends');
    }
    if (canvas) drawLosses(canvas, st.losses, unit);
    if (done.includes(st.state)) {
      source.close();
      $('cancel-form').hidden = true;
      $('download').hidden = !st.image;
      if ($('download-gif')) $('download-gif').hidden = !st.gif;
      if ($('caption')) $('caption').textContent = st.state === 'done' ? 'the result' : 'the picture where it stopped';
      // Resume and the job's final settings come with the page.
      if (!st.sweep && (st.state === 'canceled' || st.state === 'interrupted')) location.reload();
      // A sweep's page lists its pictures' results: show them.
      if (st.sweep) location.reload();
      // An instant picture's page offers its refinement.
      if (st.instant && $('refine')) $('refine').hidden = st.state !== 'done';
      if (st.instant && $('caption')) $('caption').textContent = st.state === 'done' ? 'the instant picture, by the pretrained feed-forward network' : 'no picture';
    }
  });
  source.onerror = () => {
    if (done.includes($('state').textContent)) source.close();
  };
}

document.addEventListener('DOMContentLoaded', () => {
  previewFiles();
  chooseStyle();
  const job = document.getElementById('job');
  if (job) followJob(job);
});
