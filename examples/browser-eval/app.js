// The page's script (examples/browser-eval/README.md): the files picked or dropped are listed with
// listArrays, opened with openArray (a Blob read a slice at a time, never whole), scored with
// scoreArrays as `xentropy score` does, and shown as the report `xentropy score --report` writes
// (scoreReportHtml) and the numbers `xentropy score --json` prints (scoreJson). No bundler: index.html's
// import map resolves 'xentropy' and 'xentropy/eval' to the package's dist/ files.

import { createPool, init } from 'xentropy';
import { listArrays, openArray, scoreArrays, scoreJson, scoreReportHtml } from 'xentropy/eval';

const ROLES = ['logits', 'labels', 'mask'];
/** The array a file of several is read for, by role, when it has one of these names (else the first that fits). */
const PREFERRED = {
  logits: ['logits', 'scores', 'outputs', 'probs', 'predictions'],
  labels: ['labels', 'label', 'targets', 'target', 'input_ids', 'y'],
  mask: ['attention_mask', 'mask'],
};
const FLOAT_TYPES = new Set(['float16', 'bfloat16', 'float32', 'float64']);

const $ = (id) => document.getElementById(id);
/** Per role: { file, arrays (listArrays), name } once a file is read. */
const chosen = {};
let downloadUrl;

// The SIMD build by default: it gives the same bits in every runtime, so the figures are those of the
// command line to the last digit (relaxed SIMD's fused multiply-add may differ in the last bit).
// ?build=relaxed (or scalar, or auto) picks another.
const build = new URLSearchParams(location.search).get('build') ?? 'simd';
const ready = init({ build });
// A cross-origin isolated page (serve.mjs sends COOP and COEP) scores on every core: pool.scorer gives
// the bits of the SIMD build on one thread. Elsewhere, or if the pool cannot start, one thread scores.
const pool = globalThis.crossOriginIsolated && build === 'simd'
  ? ready.then(() => createPool()).catch((error) => {
    console.warn(`xentropy: scoring on one thread; the pool did not start: ${error.message}`);
    return null;
  })
  : Promise.resolve(null);

function showError(error) {
  const box = $('error');
  box.textContent = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  box.hidden = false;
  document.body.dataset.state = 'error';
}

function clearError() {
  $('error').hidden = true;
  $('error').textContent = '';
}

/** The "download report.html" link, made once there is a report (a link without a target is no link). */
function downloadLink() {
  let link = $('download');
  if (!link) {
    link = Object.assign(document.createElement('a'), { id: 'download', download: 'report.html', textContent: 'Download report.html' });
    $('download-line').prepend(link, ' ');
  }
  return link;
}

const shapeText = (shape) => `[${shape.join(', ')}]`;

/** The array of a file a role reads by default: a preferred name, else the first that fits the role. */
function defaultName(role, arrays) {
  const readable = arrays.filter((a) => a.error === undefined);
  const fits = (a) => (role === 'logits' ? FLOAT_TYPES.has(a.type) && a.shape.length >= 2 : !FLOAT_TYPES.has(a.type));
  const byName = PREFERRED[role].map((n) => readable.find((a) => a.name === n && fits(a))).find(Boolean);
  return (byName ?? readable.find(fits) ?? readable[0] ?? arrays[0]).name;
}

function current(role) {
  const c = chosen[role];
  return c && c.arrays.find((a) => a.name === c.name);
}

function describeChoice(role) {
  const c = chosen[role];
  const info = $(`${role}-info`);
  if (!c) {
    info.textContent = '';
    return;
  }
  const a = current(role);
  const where = a.name === undefined ? c.file.name : `${c.file.name}:${a.name}`;
  info.textContent = a.error ? `${where}: ${a.error}` : `${where}: ${a.type} ${shapeText(a.shape)}`;
}

/** Reads the arrays a file holds and offers them (a select box when there are several). */
async function onFile(role, file) {
  clearError();
  const select = $(`${role}-name`);
  select.hidden = true;
  select.previousElementSibling.hidden = true;
  delete chosen[role];
  $(`${role}-info`).textContent = file ? `reading ${file.name}…` : '';
  try {
    if (!file) return;
    const arrays = await listArrays(file);
    chosen[role] = { file, arrays, name: defaultName(role, arrays) };
    if (arrays.length > 1) {
      select.replaceChildren(...arrays.map((a) => {
        const option = new Option(a.error ? `${a.name} (cannot be read)` : `${a.name} — ${a.type} ${shapeText(a.shape)}`, a.name);
        option.disabled = a.error !== undefined;
        return option;
      }));
      select.value = chosen[role].name;
      select.hidden = false;
      select.previousElementSibling.hidden = false;
    }
  } catch (error) {
    $(`${role}-info`).textContent = '';
    showError(error);
  } finally {
    describeChoice(role);
    updateForm();
  }
}

function updateForm() {
  const logits = chosen.logits && current('logits');
  const sequences = logits?.shape?.length === 3;
  $('shift').disabled = !sequences;
  if (!sequences) $('shift').checked = false;
  $('mask-clear').hidden = !chosen.mask;
  $('classes-info').textContent = logits?.shape
    ? `${logits.shape.at(-1)} classes (the logits' last dimension)${sequences ? `; ${logits.shape[0]} sequences of ${logits.shape[1]} positions` : `; ${logits.shape[0]} rows`}`
    : '';
  $('score').disabled = !(chosen.logits && chosen.labels);
}

/** Options as `xentropy score` takes them; what the library refuses, it says (shown as its error). */
function readOptions() {
  const options = { from: new FormData($('form')).get('from') };
  const topK = $('top-k').value.trim();
  if (topK !== '') options.topK = topK.split(',').map((k) => (k.trim() === '' ? Number.NaN : Number(k)));
  if ($('bins').value.trim() !== '') options.bins = Number($('bins').value);
  if ($('ignore-index').value.trim() !== '') options.ignoreIndex = Number($('ignore-index').value);
  if ($('shift').checked) options.shift = true;
  return options;
}

/** Lets the browser paint the progress bar at most every 50 ms. */
let lastPaint = 0;
async function progress(done, total) {
  $('progress').hidden = false;
  $('progress').value = total === 0 ? 1 : done / total;
  $('progress-text').textContent = `${done.toLocaleString('en')} / ${total.toLocaleString('en')} rows`;
  if (performance.now() - lastPaint > 50) {
    await new Promise((resolve) => setTimeout(resolve, 0));
    lastPaint = performance.now();
  }
}

async function score(event) {
  event.preventDefault();
  clearError();
  document.body.dataset.state = 'scoring';
  $('score').disabled = true;
  $('progress').value = 0;
  $('progress').hidden = false;
  $('progress-text').textContent = 'reading…';
  const readers = [];
  try {
    const xe = await ready;
    const workers = await pool;
    const open = async (role) => {
      const c = chosen[role];
      const reader = await openArray(c.file, c.name === undefined ? {} : { name: c.name });
      readers.push(reader);
      return reader;
    };
    const inputs = { logits: await open('logits'), labels: await open('labels') };
    if (chosen.mask) inputs.mask = await open('mask');
    // confusion: the report's heat map, as `xentropy score --report` keeps it.
    const report = await scoreArrays(workers ?? xe, inputs, { ...readOptions(), confusion: true, onProgress: progress });
    document.body.dataset.scorer = workers ? `pool of ${workers.threads}` : 'one thread';
    const html = scoreReportHtml(report);
    $('report').srcdoc = html;
    if (downloadUrl) URL.revokeObjectURL(downloadUrl);
    downloadUrl = URL.createObjectURL(new Blob([html], { type: 'text/html' }));
    downloadLink().href = downloadUrl;
    $('json').textContent = JSON.stringify(scoreJson(report), null, 2);
    $('build-info').textContent = `(${xe.features.build} build, ${workers ? `${workers.threads} workers` : 'one thread'}, ${report.chunks} chunk${report.chunks === 1 ? '' : 's'}${report.looksLikeProbabilities
      ? '; every row lies in [0, 1] and sums to 1: these look like probabilities, not logits — if they are, choose "probabilities"' : ''})`;
    $('result').hidden = false;
    $('progress-text').textContent = `${report.count.toLocaleString('en')} ${report.sequences === undefined ? 'rows' : 'tokens'} counted`;
    document.body.dataset.state = 'done';
  } catch (error) {
    $('progress').hidden = true;
    $('progress-text').textContent = '';
    showError(error);
  } finally {
    for (const reader of readers) reader.close();
    updateForm();
  }
}

for (const role of ROLES) {
  const input = $(`${role}-file`);
  input.addEventListener('change', () => onFile(role, input.files[0]));
  $(`${role}-name`).addEventListener('change', (event) => {
    chosen[role].name = event.target.value;
    describeChoice(role);
    updateForm();
  });
  const drop = $(`${role}-drop`);
  drop.addEventListener('dragover', (event) => {
    event.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (event) => {
    event.preventDefault();
    drop.classList.remove('over');
    const files = event.dataTransfer?.files;
    if (!files || files.length === 0) return;
    input.files = files;
    onFile(role, files[0]);
  });
}
// A file dropped beside the drop zones is not opened by the browser in place of the page.
for (const type of ['dragover', 'drop']) window.addEventListener(type, (event) => event.preventDefault());
$('mask-clear').addEventListener('click', () => {
  $('mask-file').value = '';
  onFile('mask', undefined);
});
$('form').addEventListener('submit', score);
ready.then(
  () => {
    document.body.dataset.state = 'ready';
  },
  showError,
);
updateForm();
