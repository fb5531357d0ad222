// The live airspace map: Leaflet over an offline basemap (world-atlas
// countries, or a tile server utmd names), fed by utmd's Server-Sent Events
// (/api/events): restrictions, aircraft with tracks and velocity vectors,
// alerts, intents, and for Remote ID display tokens what the public Remote
// ID display shows (flights or clusters; never who flies them). Signing in posts the token once; utmd keeps it in an
// HttpOnly cookie that this script never sees.
import L from 'leaflet';
import 'leaflet/dist/leaflet.css';
import './app.css';
import { feature } from 'topojson-client';
import countries from 'world-atlas/countries-50m.json';

const $ = (id) => document.getElementById(id);
// Restrictions are watched within this many degrees of the view's centre
// (utmd watches at most 120 km across).
const WATCH_HALF_DEG = 0.25;
// Velocity vectors show where an aircraft will be in this many seconds.
const VECTOR_S = 30;
const TYPE_COLOURS = {
  CONSTRAINT_TYPE_PROHIBITED: '#d32f2f',
  CONSTRAINT_TYPE_REQUIRES_AUTHORISATION: '#ef6c00',
  CONSTRAINT_TYPE_CONDITIONAL: '#f9a825',
  CONSTRAINT_TYPE_ADVISORY: '#1976d2',
};

const map = L.map('map', { preferCanvas: false, worldCopyJump: true });
const layers = {
  constraints: L.layerGroup().addTo(map),
  intents: L.layerGroup().addTo(map),
  tracks: L.layerGroup().addTo(map),
  alerts: L.layerGroup().addTo(map),
  aircraft: L.layerGroup().addTo(map),
  // Added to the map only for a token with the Remote ID layer, while its
  // toggle is on.
  rid: L.layerGroup(),
};
const constraints = new Map(); // id -> {data, layers, li}
const aircraft = new Map();    // id -> {data, marker, track, vector, li}
const alerts = new Map();      // id -> {data, line, li}
const intents = new Map();     // id -> {data, layers, li}
const ridFlights = new Map();  // id -> {data, marker, track, li}
let ridClusters = [];          // Leaflet polygons
let ridShown = false;          // this token gets the Remote ID layer
let source = null;
let watched = null; // [minLat, minLng, maxLat, maxLng]

function showError(text) { $('error').textContent = text || ''; }
function setStatus(state, text) {
  $('status').dataset.state = state;
  $('status').textContent = text;
}
function el(tag, attrs, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.dataset[k] = String(v);
  if (text !== undefined) e.textContent = text;
  return e;
}
function short(type) { return (type || '').replace(/^[A-Z]+_TYPE_|^INTENT_STATE_|^ALERT_KIND_/, ''); }

// --- basemap ----------------------------------------------------------------
async function basemap() {
  let config = { tile_url: '' };
  try { config = await (await fetch('/api/config')).json(); } catch (e) { /* offline default */ }
  if (config.tile_url) {
    L.tileLayer(config.tile_url, { attribution: config.tile_attribution || '', maxZoom: 19 }).addTo(map);
  } else {
    L.geoJSON(feature(countries, countries.objects.countries), {
      interactive: false,
      style: { color: '#8d8d8d', weight: 1, fillColor: '#f2f0e6', fillOpacity: 1 },
    }).addTo(map);
    map.attributionControl.addAttribution('Natural Earth (world-atlas)');
  }
  const hash = location.hash.slice(1).split(',').map(Number);
  const view = config.view || [47.3769, 8.5417, 11];
  if (hash.length === 3 && hash.every(Number.isFinite)) {
    map.setView([hash[0], hash[1]], hash[2]);
  } else {
    map.setView([view[0], view[1]], view[2]);
  }
}

// --- restrictions -------------------------------------------------------------
function volumeLayers(volumes, style) {
  const out = [];
  for (const v of volumes || []) {
    const vol = v.volume || {};
    if (vol.outline_polygon) {
      const ring = (r) => (r.vertices || []).map((p) => [p.lat_deg || 0, p.lng_deg || 0]);
      const rings = [ring(vol.outline_polygon)].concat((vol.outline_polygon.holes || []).map(ring));
      out.push(L.polygon(rings, style));
    } else if (vol.outline_circle) {
      const c = vol.outline_circle.center || {};
      out.push(L.circle([c.lat_deg || 0, c.lng_deg || 0], { ...style, radius: vol.outline_circle.radius_m }));
    }
  }
  return out;
}
function constraintText(c) {
  const s = c.schedule && c.schedule.absolute ? c.schedule.absolute : {};
  return `${short(c.type)} ${c.active ? 'active' : 'inactive'}: ${c.reason || c.id}` +
    (s.start || s.end ? ` (${s.start || '…'} to ${s.end || '…'})` : '') +
    (c.message_for_pilots ? ` — ${c.message_for_pilots}` : '');
}
function drawConstraint(c) {
  removeConstraint(c.id);
  const colour = TYPE_COLOURS[c.type] || '#555';
  const active = !!c.active;
  const style = {
    color: colour, weight: 2, fillOpacity: active ? 0.25 : 0.05, dashArray: active ? null : '6 6',
    className: `utm-constraint utm-${short(c.type).toLowerCase()} ${active ? 'utm-active' : 'utm-inactive'}`,
  };
  const ls = volumeLayers(c.volumes, style);
  const text = constraintText(c);
  for (const l of ls) l.bindPopup(text).addTo(layers.constraints);
  const li = el('li', { id: c.id, type: short(c.type), active }, text);
  li.className = 'constraint';
  $('restrictions').append(li);
  constraints.set(c.id, { data: c, layers: ls, li });
}
function removeConstraint(id) {
  const c = constraints.get(id);
  if (!c) return;
  for (const l of c.layers) layers.constraints.removeLayer(l);
  c.li.remove();
  constraints.delete(id);
}
function clearConstraints() { for (const id of [...constraints.keys()]) removeConstraint(id); }
function onConstraint(e) {
  if (e.snapshot_begin || e.resync_required) clearConstraints();
  else if (e.upsert) drawConstraint(e.upsert);
  else if (e.removed) removeConstraint(e.removed.constraint_id);
  else if (e.activity_changed) {
    const c = constraints.get(e.activity_changed.constraint_id);
    if (c) drawConstraint({ ...c.data, active: !!e.activity_changed.active });
  }
}

// --- aircraft and alerts ------------------------------------------------------
function alerted(id) {
  for (const a of alerts.values()) if ((a.data.aircraft || []).includes(id)) return true;
  return false;
}
function markAlerted(id) {
  const a = aircraft.get(id);
  if (!a) return;
  const on = alerted(id);
  a.marker.setStyle({ color: on ? '#b00020' : '#0d47a1', fillColor: on ? '#ff1744' : '#1e88e5' });
  const e = a.marker.getElement();
  if (e) e.classList.toggle('utm-alerted', on);
  a.li.dataset.alerted = String(on);
}
function onAircraft(d) {
  const pos = [d.lat, d.lng];
  // Where it will be in VECTOR_S seconds at its velocity (flat-earth, short).
  const k = VECTOR_S / 111320;
  const ahead = [d.lat + d.north_mps * k, d.lng + (d.east_mps * k) / Math.cos((d.lat * Math.PI) / 180)];
  const label = d.aircraft_id ? `${d.aircraft_id} (${d.operator})` : d.id;
  let a = aircraft.get(d.id);
  if (!a) {
    a = {
      marker: L.circleMarker(pos, { radius: 7, weight: 2, fillOpacity: 0.9, className: `utm-aircraft${d.own ? ' utm-own' : ''}` }).addTo(layers.aircraft),
      track: L.polyline(d.track || [], { weight: 2, opacity: 0.7, className: 'utm-track' }).addTo(layers.tracks),
      vector: L.polyline([pos, ahead], { weight: 2, className: 'utm-velocity' }).addTo(layers.tracks),
      li: el('li', { id: d.id }),
    };
    a.li.className = 'aircraft';
    $('aircraft').append(a.li);
    aircraft.set(d.id, a);
  }
  a.data = d;
  a.marker.setLatLng(pos).bindTooltip(label);
  a.track.setLatLngs(d.track || []);
  a.vector.setLatLngs([pos, ahead]);
  a.li.dataset.lat = d.lat;
  a.li.dataset.lng = d.lng;
  const speed = Math.hypot(d.north_mps, d.east_mps);
  a.li.textContent = `${label}: ${d.lat.toFixed(5)}, ${d.lng.toFixed(5)}, ${d.alt_m.toFixed(0)} m, ${speed.toFixed(1)} m/s`;
  markAlerted(d.id);
  for (const al of alerts.values()) if ((al.data.aircraft || []).includes(d.id)) drawAlertLine(al);
}
function onAircraftGone(d) {
  const a = aircraft.get(d.id);
  if (!a) return;
  layers.aircraft.removeLayer(a.marker);
  layers.tracks.removeLayer(a.track);
  layers.tracks.removeLayer(a.vector);
  a.li.remove();
  aircraft.delete(d.id);
}
function drawAlertLine(al) {
  const ends = (al.data.aircraft || []).map((id) => aircraft.get(id)).filter(Boolean);
  if (ends.length === 2) {
    const pts = ends.map((a) => [a.data.lat, a.data.lng]);
    if (al.line) al.line.setLatLngs(pts);
    else al.line = L.polyline(pts, { color: '#ff1744', weight: 3, className: 'utm-alert-pair' }).addTo(layers.alerts);
  }
}
function onAlert(d) {
  const old = alerts.get(d.id);
  if (old) {
    if (old.line) layers.alerts.removeLayer(old.line);
    old.li.remove();
    alerts.delete(d.id);
  }
  if (d.state !== 'ALERT_STATE_CLEARED') {
    const li = el('li', { id: d.id, kind: short(d.kind), aircraft: (d.aircraft || []).join(' ') },
      `${short(d.kind)}${d.message ? ': ' + d.message : ''}`);
    li.className = 'alert';
    $('alerts').append(li);
    const al = { data: d, line: null, li };
    alerts.set(d.id, al);
    drawAlertLine(al);
  }
  for (const id of new Set([...(d.aircraft || []), ...((old && old.data.aircraft) || [])])) markAlerted(id);
}

// --- intents ------------------------------------------------------------------
function onIntent(d) {
  const old = intents.get(d.id);
  if (old) {
    for (const l of old.layers) layers.intents.removeLayer(l);
    old.li.remove();
    intents.delete(d.id);
  }
  if (['INTENT_STATE_ENDED', 'INTENT_STATE_CANCELLED'].includes(d.state)) return;
  const state = short(d.state);
  const colour = { ACTIVATED: '#2e7d32', ACCEPTED: '#6d4c41', NONCONFORMING: '#c62828', CONTINGENT: '#6a1b9a' }[state] || '#555';
  const text = `${state}${d.own ? ' (yours)' : ''}${d.owner ? ' ' + d.owner : ''}`;
  const ls = volumeLayers(d.volumes, { color: colour, weight: 1, fillOpacity: 0.08, dashArray: '3 4', className: `utm-intent utm-intent-${state.toLowerCase()}` });
  for (const l of ls) l.bindPopup(text).addTo(layers.intents);
  const li = el('li', { id: d.id, state, own: !!d.own }, text);
  li.className = 'intent';
  $('intents').append(li);
  intents.set(d.id, { data: d, layers: ls, li });
}

// --- Remote ID (what the public display shows) ---------------------------------
function onRidFlight(d) {
  const pos = [d.lat, d.lng];
  let f = ridFlights.get(d.id);
  if (!f) {
    f = {
      marker: L.circleMarker(pos, { radius: 11, weight: 2, dashArray: '3 2', fillOpacity: 0.15, color: '#6a1b9a', fillColor: '#ce93d8', className: 'utm-rid' }).addTo(layers.rid),
      track: L.polyline(d.track || [], { weight: 2, opacity: 0.6, dashArray: '1 4', color: '#8e24aa', className: 'utm-rid-track' }).addTo(layers.rid),
      li: el('li', { id: d.id }),
    };
    f.li.className = 'rid';
    $('rid').append(f.li);
    ridFlights.set(d.id, f);
  }
  f.data = d;
  const text = `${d.id} (${d.source.toLowerCase().replace('_', ' ')})`;
  f.marker.setLatLng(pos).bindTooltip(`Remote ID ${text}`);
  f.track.setLatLngs(d.track || []);
  f.li.dataset.source = d.source;
  f.li.dataset.lat = d.lat;
  f.li.dataset.lng = d.lng;
  f.li.textContent = `${text}: ${d.lat.toFixed(5)}, ${d.lng.toFixed(5)}` +
    (d.alt_m !== undefined ? `, ${d.alt_m.toFixed(0)} m` : '') + (d.has_velocity ? `, ${d.speed_mps.toFixed(1)} m/s` : '');
}
function onRidFlightGone(d) {
  const f = ridFlights.get(d.id);
  if (!f) return;
  layers.rid.removeLayer(f.marker);
  layers.rid.removeLayer(f.track);
  f.li.remove();
  ridFlights.delete(d.id);
}
function onRidView(d) {
  for (const c of ridClusters) layers.rid.removeLayer(c);
  ridClusters = (d.clusters || []).map((c) => L.polygon(c.corners, {
    color: '#6a1b9a', weight: 1, dashArray: '2 3', fillOpacity: 0.12, className: 'utm-rid-cluster',
  }).bindTooltip(`${c.aircraft_count} Remote ID aircraft somewhere here`).addTo(layers.rid));
  const count = (d.clusters || []).reduce((n, c) => n + c.aircraft_count, 0);
  $('rid-note').textContent = d.refused ? `Zoom in to see Remote ID flights (${d.refused})`
    : count ? `${count} aircraft in ${d.clusters.length} area(s); zoom in to see them` : '';
}
function showRidLayer(on) {
  ridShown = on;
  $('rid-section').hidden = !on;
  $('rid-toggle').hidden = !on;
  if (on && $('rid-layer').checked) layers.rid.addTo(map);
  else layers.rid.remove();
}
$('rid-layer').addEventListener('change', () => showRidLayer(ridShown));

function resetTactical() {
  for (const id of [...alerts.keys()]) onAlert({ id, state: 'ALERT_STATE_CLEARED', aircraft: [] });
  for (const id of [...aircraft.keys()]) onAircraftGone({ id });
  for (const id of [...intents.keys()]) onIntent({ id, state: 'INTENT_STATE_ENDED' });
  for (const id of [...ridFlights.keys()]) onRidFlightGone({ id });
  onRidView({ clusters: [] });
}

// --- the event stream ---------------------------------------------------------
function watchArea() {
  const c = map.getCenter();
  const b = map.getBounds();
  return [
    Math.max(b.getSouth(), c.lat - WATCH_HALF_DEG, -89.9), Math.max(b.getWest(), c.lng - WATCH_HALF_DEG, -180),
    Math.min(b.getNorth(), c.lat + WATCH_HALF_DEG, 89.9), Math.min(b.getEast(), c.lng + WATCH_HALF_DEG, 180),
  ].map((x) => Number(x.toFixed(5)));
}
function connect() {
  if (source) source.close();
  watched = watchArea();
  source = new EventSource(`/api/events?bbox=${watched.join(',')}`);
  setStatus('reconnecting', 'connecting');
  const on = (name, fn) => source.addEventListener(name, (m) => fn(JSON.parse(m.data)));
  on('hello', (d) => {
    setStatus('live', 'live'); $('who').textContent = d.subject; showError('');
    showRidLayer(!!d.remote_id);
  });
  on('reset', () => resetTactical());
  on('constraint', onConstraint);
  on('aircraft', onAircraft);
  on('aircraft_gone', onAircraftGone);
  on('alert', onAlert);
  on('intent', onIntent);
  on('rid_flight', onRidFlight);
  on('rid_flight_gone', onRidFlightGone);
  on('rid_view', onRidView);
  on('expired', () => { source.close(); setStatus('signed-out', 'token expired'); showSignIn(true); });
  source.onerror = () => {
    // EventSource retries by itself; an answer that is not a stream (the
    // sign-in expired, too many viewers) closes it for good.
    if (source.readyState === EventSource.CLOSED) {
      setStatus('signed-out', 'disconnected');
      checkSession();
    } else {
      setStatus('reconnecting', 'reconnecting');
    }
  };
}
map.on('moveend', () => {
  if (!source) return;
  const w = watchArea();
  // The Remote ID display answers for the area watched, which must then be
  // the view itself (flights up to 2 km across): any move reconnects.
  const ridView = ridShown && $('rid-layer').checked && w.some((x, i) => x !== watched[i]);
  if (ridView || w[0] < watched[0] || w[1] < watched[1] || w[2] > watched[2] || w[3] > watched[3]) connect();
});

function showSignIn(show) {
  $('signin').hidden = !show;
  $('signout').hidden = show;
}
async function checkSession() {
  const r = await fetch('/api/session');
  if (r.ok) {
    const s = await r.json();
    $('who').textContent = s.subject;
    showSignIn(false);
    connect();
  } else {
    showSignIn(true);
    if (r.status !== 401) showError((await r.json()).message);
  }
}
$('signin').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const r = await fetch('/api/session', {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ token: $('token').value.trim() }),
  });
  $('token').value = '';
  if (!r.ok) { showError((await r.json()).message); return; }
  showError('');
  showSignIn(false);
  connect();
});
$('signout').addEventListener('click', async () => {
  if (source) source.close();
  source = null;
  await fetch('/api/session', { method: 'DELETE' });
  clearConstraints();
  resetTactical();
  showRidLayer(false);
  $('who').textContent = '';
  setStatus('signed-out', 'signed out');
  showSignIn(true);
});

basemap().then(checkSession);
