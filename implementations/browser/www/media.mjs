// Media mode, page side: peer connections whose encoded frames pass through
// media-worker.mjs. Python (harness/sfu) does the signalling with aiortc.
const peers = new Map(); // name -> {pc, records, transceiver, element}

function onlyLoopback(sdp) {
  // aiortc listens on 127.0.0.1 only; other candidates would just fail.
  return sdp.split('\r\n').filter((l) => !l.startsWith('a=candidate:') || / 127\.0\.0\.1 /.test(l)).join('\r\n');
}

function iceComplete(pc) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => pc.addEventListener('icegatheringstatechange', () => {
    if (pc.iceGatheringState === 'complete') resolve();
  }));
}

function preferCodec(transceiver, kind, mime) {
  const codecs = RTCRtpReceiver.getCapabilities(kind).codecs;
  const wanted = codecs.filter((c) => c.mimeType.toLowerCase() === mime.toLowerCase());
  transceiver.setCodecPreferences([...wanted, ...codecs.filter((c) => /rtx/i.test(c.mimeType))]);
}

function peer(name) {
  const pc = new RTCPeerConnection({ iceServers: [] });
  const entry = { pc, records: [], workerErrors: [] };
  peers.set(name, entry);
  return entry;
}

function attachTransform(entry, target, options) {
  const worker = new Worker('/www/media-worker.mjs', { type: 'module' });
  let markReady;
  entry.ready = new Promise((resolve) => { markReady = resolve; });
  worker.onmessage = (e) => (e.data.ready ? markReady() : entry.records.push(e.data));
  worker.onerror = (e) => entry.workerErrors.push(String(e.message || e.type));
  entry.worker = worker;
  target.transform = new RTCRtpScriptTransform(worker, options);
}

// Permission for the fake devices also lifts mDNS hiding of host candidates.
async function capture(kind) {
  const constraints = kind === 'video' ? { video: { width: 320, height: 240, frameRate: 30 } } : { audio: true };
  return (await navigator.mediaDevices.getUserMedia(constraints)).getTracks()[0];
}

// Browser sends the fake camera or microphone; returns its offer.
async function startSender(name, cfg) {
  const entry = peer(name);
  const track = await capture(cfg.kind);
  const transceiver = entry.pc.addTransceiver(track, { direction: 'sendonly' });
  preferCodec(transceiver, cfg.kind, cfg.mime);
  if (cfg.transform) attachTransform(entry, transceiver.sender, { ...cfg.transform, side: 'send', kind: cfg.kind, name });
  entry.transceiver = transceiver;
  await entry.pc.setLocalDescription();
  await iceComplete(entry.pc);
  return onlyLoopback(entry.pc.localDescription.sdp);
}

async function setAnswer(name, sdp) {
  await peers.get(name).pc.setRemoteDescription({ type: 'answer', sdp });
}

// Browser receives from an aiortc offer; returns its answer.
async function startReceiver(name, cfg, offer) {
  const entry = peer(name);
  await capture('audio').then((t) => t.stop()); // see capture(): host candidates on 127.0.0.1
  entry.pc.ontrack = (e) => {
    if (cfg.transform) attachTransform(entry, e.receiver, { ...cfg.transform, side: 'receive', kind: e.track.kind, name });
    // A sink, so that frames are decoded and played out.
    const element = document.createElement(e.track.kind);
    element.muted = true;
    element.autoplay = true;
    element.srcObject = new MediaStream([e.track]);
    document.body.append(element);
    entry.element = element;
  };
  await entry.pc.setRemoteDescription({ type: 'offer', sdp: offer });
  await entry.pc.setLocalDescription();
  await iceComplete(entry.pc);
  return onlyLoopback(entry.pc.localDescription.sdp);
}

function stopSending(name) {
  const entry = peers.get(name);
  if (entry && entry.transceiver && entry.transceiver.sender.track) entry.transceiver.sender.track.stop();
}

const STAT_FIELDS = ['kind', 'packetsSent', 'packetsReceived', 'packetsLost', 'framesEncoded', 'framesSent',
  'framesReceived', 'framesDecoded', 'keyFramesDecoded', 'framesDropped', 'pliCount', 'firCount', 'nackCount',
  'frameWidth', 'frameHeight', 'totalSamplesReceived', 'concealedSamples', 'bytesReceived', 'bytesSent'];

async function stats(name) {
  const out = [];
  (await peers.get(name).pc.getStats()).forEach((s) => {
    if (s.type !== 'inbound-rtp' && s.type !== 'outbound-rtp') return;
    const pick = { type: s.type };
    for (const k of STAT_FIELDS) if (s[k] !== undefined) pick[k] = s[k];
    out.push(pick);
  });
  return out;
}

function takeRecords(name) {
  const entry = peers.get(name);
  if (!entry) return { records: [], workerErrors: [] };
  const records = entry.records;
  entry.records = [];
  return { records, workerErrors: entry.workerErrors };
}

function state(name) {
  const entry = peers.get(name);
  return entry ? entry.pc.connectionState : 'none';
}

function closeAll() {
  for (const entry of peers.values()) {
    entry.pc.close();
    if (entry.worker) entry.worker.terminate();
    if (entry.element) entry.element.remove();
  }
  peers.clear();
}

// Resolves once the transform's worker reads frames (true), or after `ms` without it (false).
async function ready(name, ms = 5000) {
  const entry = peers.get(name);
  const waited = await Promise.race([
    entry.ready.then(() => true),
    new Promise((resolve) => setTimeout(() => resolve(false), ms)),
  ]);
  return waited;
}

window.media = { startSender, setAnswer, startReceiver, stopSending, stats, takeRecords, state, closeAll, ready };
