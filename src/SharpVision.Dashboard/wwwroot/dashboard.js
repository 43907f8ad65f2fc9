// SharpVision dashboard. The server pushes the runs list ("runs") and whole runs ("run") as server-sent events whenever
// their files change; this script keeps them, draws the open run (and the runs ticked for comparison) with uPlot, and
// never reloads the page. Text from the runs folder is set as text, never as HTML.
'use strict';

const PALETTE = ['#2457c5', '#d1495b', '#2a9d55', '#e08a00', '#7b4fc9', '#0f8b8d', '#a05a2c', '#c2409a'];
const DASHES = [[], [6, 4], [2, 3], [10, 3, 2, 3]];

// Charts by metric family; a column in no family gets a chart of its own, except these bookkeeping ones.
const GROUPS = [
  { id: 'loss', title: 'Loss', match: k => k === 'loss' || k === 'val_loss' },
  { id: 'accuracy', title: 'Accuracy', match: k => /^(val_)?(accuracy|top\d+_accuracy)$/.test(k) },
  { id: 'map', title: 'mAP@0.5 (validation)', match: k => k === 'val_map50' },
  { id: 'loss-parts', title: 'Loss parts', match: k => /^loss_(xy|wh|obj|cls)$/.test(k) },
  { id: 'lr', title: 'Learning rate', match: k => k === 'lr' || k === 'lr_backbone' },
  { id: 'speed', title: 'Training images/s', match: k => k === 'images_per_second' },
  { id: 'memory', title: 'Memory (MiB, resident)', match: k => k === 'memory_mb' },
];
const HIDDEN = new Set(['epoch', 'seconds', 'skipped', 'phase']);

// Epochs are whole numbers: no 1.2, 1.4 ticks. Values as fmt writes them (a learning rate of 1e-4 stays readable).
const EPOCH_AXIS = { label: 'epoch', size: 36, labelSize: 16, incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000], values: (u, splits) => splits.map(String) };
const VALUE_AXIS = { size: 60, values: (u, splits) => splits.map(v => fmt(v)) };

const state = {
  root: '',
  runs: [],               // summaries, as the server lists them
  details: new Map(),     // id -> the run's detail
  selected: null,         // the open run's id
  compare: new Set(),     // ids overlaid on the open run's charts
  charts: new Map(),      // chart id -> { plot, signature, card }
};

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : value);
  }
  for (const child of children.flat()) if (child !== null && child !== undefined) node.append(child);
  return node;
}

function fmt(value, digits = 4) {
  if (value === null || value === undefined) return '–';
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString('en');
  if (value !== 0 && Math.abs(value) < 1e-4) return value.toExponential(2);
  return Number(value.toFixed(digits)).toString();
}

function ago(iso) {
  if (!iso) return '';
  const seconds = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  return new Date(iso).toLocaleString();
}

// ---- data ---------------------------------------------------------------------------------------------------------

async function fetchRun(id) {
  const response = await fetch('/api/run?id=' + encodeURIComponent(id));
  if (!response.ok) return null;
  const run = await response.json();
  state.details.set(id, run);
  return run;
}

function displayed() {
  const ids = state.selected ? [state.selected] : [];
  for (const id of state.compare) if (id !== state.selected && state.runs.some(r => r.id === id)) ids.push(id);
  return ids;
}

async function ensureDetails() {
  await Promise.all(displayed().filter(id => !state.details.has(id)).map(fetchRun));
}

function runColour(id) {
  const index = state.runs.findIndex(r => r.id === id);
  return PALETTE[(index < 0 ? 0 : index) % PALETTE.length];
}

// ---- runs list ----------------------------------------------------------------------------------------------------

function renderRuns() {
  const container = document.getElementById('runs');
  container.replaceChildren();
  if (state.runs.length === 0) {
    container.append(el('p', { class: 'empty', text: 'No runs yet in this folder.' }));
    return;
  }
  for (const [task, title] of [['classification', 'Classification'], ['detection', 'Detection']]) {
    const runs = state.runs.filter(r => r.task === task);
    if (runs.length === 0) continue;
    container.append(el('h3', { text: title }));
    container.append(el('ul', { class: 'runs' }, runs.map(runItem)));
  }
}

function runItem(run) {
  const selected = run.id === state.selected;
  const progress = run.epochs ? `${run.epochs_completed}/${run.epochs} epochs` : `${run.epochs_completed} epochs`;
  const best = run.best ? ` · best ${run.best.metric} ${fmt(run.best.value)}` : '';
  return el('li', { class: 'run' + (selected ? ' selected' : ''), 'data-run-id': run.id, 'data-state': run.state },
    el('input', {
      type: 'checkbox', class: 'compare', title: 'overlay this run on the charts', 'aria-label': `compare ${run.id}`,
      checked: selected || state.compare.has(run.id), disabled: selected,
      onchange: event => toggleCompare(run.id, event.target.checked),
    }),
    el('button', { class: 'open', onclick: () => select(run.id) },
      el('span', { class: 'swatch', style: `background:${runColour(run.id)}` }),
      el('span', { class: 'name', text: run.id }),
      el('span', { class: `badge ${run.state}`, text: run.state }),
      el('small', { text: progress + best })));
}

async function select(id) {
  state.selected = id;
  state.compare.delete(id);
  history.replaceState(null, '', '#run=' + encodeURIComponent(id));
  renderRuns();
  await ensureDetails();
  renderRun(true);
}

async function toggleCompare(id, on) {
  if (on) state.compare.add(id); else state.compare.delete(id);
  await ensureDetails();
  renderCharts();
}

// ---- the open run -------------------------------------------------------------------------------------------------

function renderRun(rebuild) {
  const main = document.getElementById('run');
  const run = state.details.get(state.selected);
  if (!run) {
    main.replaceChildren(el('p', { class: 'empty', text: state.runs.length ? 'Select a run.' : 'Waiting for runs…' }));
    destroyCharts();
    return;
  }
  if (rebuild || !document.getElementById('charts')) {
    destroyCharts();
    main.replaceChildren(
      el('section', { class: 'run-head', id: 'run-head' }),
      el('section', {}, el('h3', { text: 'Metrics' }), el('div', { class: 'charts', id: 'charts' })),
      el('section', { id: 'steps' }),
      el('section', { id: 'evaluations' }),
      el('section', { id: 'images' }),
      el('section', { id: 'settings' }));
  }
  renderHead(run);
  renderCharts();
  renderSteps(run);
  renderEvaluations(run);
  renderImages(run);
  renderSettings(run);
}

function renderHead(run) {
  const head = document.getElementById('run-head');
  const done = run.epochs ? Math.min(1, (run.epochs_completed + (run.state === 'running' && run.steps ? run.step / run.steps : 0)) / run.epochs) : 0;
  const facts = [
    ['epoch', run.epochs ? `${run.epochs_completed} of ${run.epochs}` : `${run.epochs_completed}`],
  ];
  if (run.state === 'running' && run.steps) facts.push(['step', `${run.step}/${run.steps}`]);
  if (run.images_per_second !== null && run.images_per_second !== undefined) facts.push(['images/s', fmt(run.images_per_second, 1)]);
  if (run.memory_mb !== null && run.memory_mb !== undefined) facts.push(['memory', `${fmt(run.memory_mb, 0)} MiB`]);
  if (run.best) facts.push([`best ${run.best.metric}`, `${fmt(run.best.value)} (epoch ${run.best.epoch})`]);
  if (run.updated) facts.push(['updated', ago(run.updated)]);
  head.replaceChildren(...[
    el('h2', {}, run.id, el('span', { class: `badge ${run.state}`, id: 'run-state', text: run.state }), el('span', { class: 'task', text: run.task })),
    el('div', { class: 'progress' }, el('div', { class: 'bar', style: `width:${(done * 100).toFixed(1)}%` })),
    el('div', { class: 'facts' }, facts.map(([k, v]) => el('span', {}, `${k} `, el('b', { text: v })))),
    run.message ? el('p', { class: `message ${run.state}`, text: run.message }) : null].filter(Boolean));
}

function destroyCharts() {
  for (const chart of state.charts.values()) chart.plot.destroy();
  state.charts.clear();
}

// Which charts the displayed runs need, and each chart's series: one per (run, metric).
function chartPlan(runs) {
  const keys = new Set();
  for (const run of runs) for (const key of Object.keys(run.metrics || {})) if (!HIDDEN.has(key)) keys.add(key);
  const plan = [];
  const used = new Set();
  for (const group of GROUPS) {
    const groupKeys = [...keys].filter(group.match).sort();
    if (groupKeys.length === 0) continue;
    groupKeys.forEach(k => used.add(k));
    plan.push({ id: group.id, title: group.title, keys: groupKeys });
  }
  for (const key of [...keys].filter(k => !used.has(k)).sort()) plan.push({ id: 'metric-' + key, title: key, keys: [key] });
  return plan;
}

function renderCharts() {
  const container = document.getElementById('charts');
  if (!container) return;
  const runs = displayed().map(id => state.details.get(id)).filter(Boolean);
  const plan = chartPlan(runs);
  const wanted = new Set(plan.map(p => p.id));
  for (const [id, chart] of state.charts) {
    if (!wanted.has(id)) { chart.plot.destroy(); chart.card.remove(); state.charts.delete(id); }
  }
  plan.forEach((item, index) => {
    const { data, series } = chartData(item, runs);
    const signature = JSON.stringify(series.map(s => s.label));
    let chart = state.charts.get(item.id);
    if (chart && chart.signature !== signature) {
      chart.plot.destroy();
      chart.card.remove();
      state.charts.delete(item.id);
      chart = null;
    }
    if (!chart) {
      const card = el('div', { class: 'card', id: 'chart-' + item.id, 'data-chart': item.id }, el('h4', { text: item.title }));
      container.append(card);
      const plot = new uPlot({
        width: Math.max(300, card.clientWidth - 20), height: 210,
        scales: { x: { time: false } },
        axes: [EPOCH_AXIS, VALUE_AXIS],
        series: [{ label: 'epoch', value: (u, v) => v === null ? '–' : fmt(v, 2) }, ...series],
        legend: { live: true },
      }, data, card);
      chart = { plot, signature, card };
      state.charts.set(item.id, chart);
    } else {
      chart.plot.setData(data);
    }
    container.append(chart.card); // keep the plan's order
    // What the test (and a curious user) can read: points of the open run's first metric, and the runs drawn.
    const own = series.findIndex(s => s.run === state.selected);
    chart.card.dataset.points = own < 0 ? 0 : data[own + 1].filter(v => v !== null).length;
    chart.card.dataset.runs = [...new Set(series.map(s => s.run))].join(' ');
  });
}

function chartData(item, runs) {
  const xs = new Set();
  for (const run of runs) for (const x of (run.metrics?.epoch || [])) if (x !== null) xs.add(x);
  const x = [...xs].sort((a, b) => a - b);
  const data = [x];
  const series = [];
  const several = runs.length > 1;
  runs.forEach(run => {
    const epochs = run.metrics?.epoch || [];
    item.keys.forEach((key, k) => {
      const column = run.metrics?.[key];
      if (!column) return;
      const byEpoch = new Map(epochs.map((e, i) => [e, column[i]]));
      data.push(x.map(e => byEpoch.has(e) ? byEpoch.get(e) : null));
      const colour = several ? runColour(run.id) : PALETTE[k % PALETTE.length];
      const dash = key.startsWith('val_') ? DASHES[1] : DASHES[several ? k % DASHES.length : 0];
      series.push({
        label: several ? `${run.id} · ${key}` : key, run: run.id, stroke: colour, width: 2, dash, spanGaps: true,
        points: { show: true, size: 6, fill: colour }, value: (u, v) => fmt(v),
      });
    });
  });
  return { data, series };
}

function renderSteps(run) {
  const section = document.getElementById('steps');
  const log = run.steps_log;
  if (!log || !log.step || log.step.length === 0) { section.replaceChildren(); return; }
  const perEpoch = run.steps || Math.max(...log.step);
  const x = log.step.map((s, i) => (log.epoch[i] - 1) + s / perEpoch);
  const keys = ['loss', 'accuracy'].filter(k => log[k]);
  const key = 'steps:' + run.id + ':' + keys.join(',');
  let chart = state.charts.get('steps');
  const data = [x, ...keys.map(k => log[k])];
  if (chart && chart.signature === key) { chart.plot.setData(data); chart.card.dataset.points = x.length; return; }
  if (chart) { chart.plot.destroy(); state.charts.delete('steps'); }
  const card = el('div', { class: 'card', id: 'chart-steps', 'data-chart': 'steps' }, el('h4', { text: 'Running loss and accuracy within epochs (steps.csv)' }));
  section.replaceChildren(el('h3', { text: 'Steps' }), card);
  const plot = new uPlot({
    width: Math.max(300, card.clientWidth - 20), height: 200, scales: { x: { time: false } },
    axes: [{ label: 'epoch', size: 36, labelSize: 16 }, VALUE_AXIS],
    series: [{ label: 'epoch', value: (u, v) => v === null ? '–' : fmt(v, 2) },
      ...keys.map((k, i) => ({ label: k, stroke: PALETTE[i], width: 1.5, value: (u, v) => fmt(v) }))],
  }, data, card);
  state.charts.set('steps', { plot, signature: key, card });
  card.dataset.points = x.length;
}

function figure(src, caption, cls) {
  return el('figure', { class: cls }, el('a', { href: src, target: '_blank' }, el('img', { src, alt: caption, class: cls, loading: 'lazy' })), el('figcaption', { text: caption }));
}

function renderEvaluations(run) {
  const section = document.getElementById('evaluations');
  const evaluations = run.evaluations || [];
  if (evaluations.length === 0) {
    section.replaceChildren(el('h3', { text: 'Evaluation' }),
      el('p', { class: 'empty', text: `Not evaluated yet: sharpvision evaluate ${state.root}/${run.id} DATA writes a confusion matrix and the top losses here.` }));
    return;
  }
  section.replaceChildren(el('h3', { text: 'Evaluation' }), ...evaluations.map(e => {
    const facts = [`accuracy ${fmt(e.accuracy)}`, e.loss !== undefined && e.loss !== null ? `loss ${fmt(e.loss)}` : null, e.data ? `on ${e.data}` : null].filter(Boolean).join(' · ');
    return el('div', { class: 'evaluation', 'data-evaluation': e.id },
      el('p', {}, el('b', { text: e.id }), ` — ${facts}`, e.report ? el('span', {}, ' · ', el('a', { href: e.report, target: '_blank', text: 'report.txt' })) : null),
      el('div', { class: 'figures' },
        e.confusion_matrix ? figure(e.confusion_matrix, 'Confusion matrix', 'confusion-matrix') : null,
        e.top_losses ? figure(e.top_losses, 'Top losses: predicted / actual / probability of actual', 'top-losses') : null));
  }));
}

function renderImages(run) {
  const section = document.getElementById('images');
  const images = (run.images || []).slice().sort((a, b) => (a.name === 'curves.png') - (b.name === 'curves.png'));
  if (images.length === 0) { section.replaceChildren(); return; }
  const stamp = encodeURIComponent(run.updated || '');
  const captions = { 'val_predictions.png': 'Detection samples: boxes the model finds on validation images after the latest epoch', 'curves.png': 'curves.png, as the trainer draws it' };
  section.replaceChildren(el('h3', { text: 'Images' }), el('div', { class: 'figures' },
    images.map(i => figure(`${i.url}?v=${stamp}`, captions[i.name] || i.name, i.name.replace(/\W+/g, '-')))));
}

function renderSettings(run) {
  const section = document.getElementById('settings');
  const open = section.querySelector('details')?.open ?? true;
  const rows = (run.args || []).map(([k, v]) => el('div', { class: 'setting' }, el('span', { class: 'key', text: k }), el('span', { class: 'value', text: v })));
  section.replaceChildren(el('details', { open },
    el('summary', { text: `Settings (args.yaml, ${rows.length} entries)` }),
    rows.length ? el('div', { class: 'settings' }, rows) : el('p', { class: 'empty', text: 'No args.yaml.' })));
}

// ---- live updates -------------------------------------------------------------------------------------------------

function onRuns(list) {
  state.root = list.root;
  document.getElementById('root').textContent = list.root;
  state.runs = list.runs;
  if (!state.selected || !state.runs.some(r => r.id === state.selected)) {
    const fromHash = decodeURIComponent((location.hash.match(/run=([^&]+)/) || [])[1] || '');
    const first = state.runs.find(r => r.id === fromHash) || state.runs.find(r => r.state === 'running') || state.runs[0];
    renderRuns();
    if (first) select(first.id); else renderRun(true);
    return;
  }
  renderRuns();
}

function onRun(run) {
  state.details.set(run.id, run);
  if (run.id === state.selected) renderRun(false);
  else if (state.compare.has(run.id)) renderCharts();
}

function connect() {
  const status = document.getElementById('connection');
  const events = new EventSource('/api/events');
  events.onopen = () => { status.textContent = 'live'; status.className = 'connection live'; };
  events.onerror = () => {
    status.textContent = 'disconnected: the dashboard stopped (it ends with a train --dashboard run); retrying…';
    status.className = 'connection lost';
  };
  events.addEventListener('runs', e => onRuns(JSON.parse(e.data)));
  events.addEventListener('run', e => onRun(JSON.parse(e.data)));
}

window.addEventListener('resize', () => {
  for (const chart of state.charts.values()) chart.plot.setSize({ width: Math.max(300, chart.card.clientWidth - 20), height: chart.plot.height });
});

window.dashboard = state; // for the curious, from the browser's console
connect();
