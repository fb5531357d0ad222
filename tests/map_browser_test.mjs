// The browser half of map_browser_test.sh: headless Chromium (playwright-core
// from web/node_modules) against a utmd serving the map. Environment:
// MAP_URL, GRPC, UTMCTL, DATA_DIR, WORK, ARTIFACTS, CHROMIUM, WEB_DIR.
// Every wait is bounded; the one time bound the feature promises (a
// restriction on the map within 1 s of its publication) is asserted.
import { execFileSync, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const env = process.env;
const require = createRequire(join(env.WEB_DIR, 'package.json'));
const { chromium } = require('playwright-core');

const fliers = []; // utmctl telemetry fly processes
function fail(message) {
  console.error(`FAIL: ${message}`);
  for (const p of fliers) if (p.exitCode === null) p.kill('SIGKILL');
  process.exit(1);
}
function utmctl(args) {
  return execFileSync(env.UTMCTL, ['--server', env.GRPC, ...args], { encoding: 'utf8' });
}
function token(role, sub) {
  return execFileSync(env.UTMCTL, ['token', '--role', role, '--sub', sub, '--data-dir', env.DATA_DIR],
    { encoding: 'utf8' }).trim();
}
function iso(offsetS) { return new Date(Date.now() + offsetS * 1000).toISOString().replace(/\.\d+Z$/, 'Z'); }
const w84 = (m) => ({ valueM: m, reference: 'ALTITUDE_REFERENCE_W84' });

const monitor = token('monitor', 'supervisor-1');
const regulator = token('regulator', 'CH-FOCA');
const alice = token('operator', 'alice');
const bob = token('operator', 'bob-secret-op');
const display = token('display', 'public-display-1');

const browser = await chromium.launch({ executablePath: env.CHROMIUM, args: ['--no-sandbox'] });
try {
  // --- sign in ---------------------------------------------------------------
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const consoleErrors = [];
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  await page.goto(`${env.MAP_URL}#47.40,8.55,14`);
  // A bad token is refused with the verifier's reason, shown on the page.
  await page.fill('#token', 'not-a-jwt');
  await page.click('#signin-button');
  await page.waitForFunction(() => document.getElementById('error').textContent.length > 0, null, { timeout: 5000 });
  const refused = await page.textContent('#error');
  if (!/JWT|token/i.test(refused)) fail(`a bad token: unexpected message "${refused}"`);
  await page.fill('#token', monitor);
  await page.click('#signin-button');
  await page.waitForSelector('#status[data-state="live"]', { timeout: 5000 });
  // The basemap is offline: the country shapes are drawn without a tile.
  const basemapPaths = await page.locator('path.leaflet-interactive, .leaflet-overlay-pane path').count();
  if (basemapPaths === 0) fail('no basemap drawn');
  console.log(`ok: signed in as a monitor; the offline basemap drew ${basemapPaths} path(s)`);

  // --- a TFR published over gRPC appears within 1 s ----------------------------
  const tfr = join(env.WORK, 'tfr.json');
  writeFileSync(tfr, JSON.stringify({
    type: 'CONSTRAINT_TYPE_PROHIBITED', reason: 'Wildfire TFR', messageForPilots: 'Firefighting aircraft: keep out',
    volumes: [{ volume: { outlineCircle: { center: { latDeg: 47.405, lngDeg: 8.56 }, radiusM: 300 },
      altitudeLower: w84(0), altitudeUpper: w84(1000) } }],
  }));
  utmctl(['--token', regulator, 'constraint', 'publish', tfr, '--request-id', 'tfr-1']);
  const published = Date.now();
  try {
    await page.waitForSelector('#restrictions li[data-type="PROHIBITED"][data-active="true"]', { timeout: 1000 });
  } catch (e) {
    fail('the TFR was not on the map within 1 s of its publication');
  }
  const latency = Date.now() - published;
  if ((await page.locator('path.utm-constraint.utm-prohibited').count()) !== 1) fail('the TFR is listed but not drawn');
  const text = await page.textContent('#restrictions li');
  if (!text.includes('Wildfire TFR') || !text.includes('keep out')) fail(`the TFR's entry lacks its reason or message: ${text}`);
  console.log(`ok: the TFR was on the map ${latency} ms after utmctl returned`);
  await page.screenshot({ path: join(env.ARTIFACTS, 'map-tfr.png') });

  // --- two drones head-on: they move, their conflict is highlighted, then cleared
  const intent = join(env.WORK, 'intent.json');
  writeFileSync(intent, JSON.stringify({ priority: 0, volumes: [{
    volume: { outlineCircle: { center: { latDeg: 47.40, lngDeg: 8.55 }, radiusM: 500 },
      altitudeLower: w84(100), altitudeUpper: w84(200) },
    timeStart: iso(-60), timeEnd: iso(1800) }] }));
  const fileAndActivate = (tok, priority) => {
    const out = utmctl(['--token', tok, 'intent', 'file', intent, '--priority', String(priority)]);
    const id = /^ACCEPTED intent ([^:]+):/m.exec(out)?.[1];
    if (!id) fail(`filing: ${out}`);
    utmctl(['--token', tok, 'intent', 'activate', id, '--version', '1']);
    return id;
  };
  const aliceIntent = fileAndActivate(alice, 0);
  const bobIntent = fileAndActivate(bob, 5);
  // 500 m apart at 12 m/s each: separation lost after ~19 s, clear again
  // after ~23 s (as utmctl_telemetry_test.sh).
  const fly = (tok, id, aircraft, from, velocity) => {
    const p = spawn(env.UTMCTL, ['--server', env.GRPC, '--token', tok, 'telemetry', 'fly', '--aircraft', aircraft,
      '--intent', id, '--from', from, '--velocity', velocity, '--duration-s', '28'], { stdio: 'ignore' });
    fliers.push(p);
    return p;
  };
  fly(alice, aliceIntent, 'alice-1', '47.40,8.546685,150', '0,12,0');
  fly(bob, bobIntent, 'bob-drone-7', '47.40,8.553315,150', '0,-12,0');
  await page.waitForFunction(() => document.querySelectorAll('#aircraft li').length === 2, null, { timeout: 10000 });
  const where = () => page.$$eval('#aircraft li', (lis) => lis.map((li) => [li.dataset.id, Number(li.dataset.lng)]));
  const first = new Map(await where());
  await page.waitForFunction((before) => [...document.querySelectorAll('#aircraft li')].every(
    (li) => Math.abs(Number(li.dataset.lng) - before[li.dataset.id]) > 1e-4), Object.fromEntries(first), { timeout: 10000 });
  const tracks = await page.locator('path.utm-track').count();
  const vectors = await page.locator('path.utm-velocity').count();
  if (tracks !== 2 || vectors !== 2) fail(`want 2 tracks and 2 velocity vectors, got ${tracks} and ${vectors}`);
  console.log('ok: both aircraft move, each with its track and velocity vector');

  await page.waitForSelector('#alerts li', { timeout: 25000 });
  const pair = await page.$eval('#alerts li', (li) => ({ kind: li.dataset.kind, aircraft: li.dataset.aircraft.split(' ') }));
  if (!/^CONFLICT_|^SEPARATION_LOST/.test(pair.kind) || pair.aircraft.length !== 2) fail(`unexpected alert ${JSON.stringify(pair)}`);
  await page.waitForFunction(() => document.querySelectorAll('path.utm-aircraft.utm-alerted').length === 2, null, { timeout: 5000 });
  if ((await page.locator('path.utm-alert-pair').count()) !== 1) fail('the pair is not joined by an alert line');
  console.log(`ok: the conflict (${pair.kind}) highlights both aircraft and joins them`);
  await page.screenshot({ path: join(env.ARTIFACTS, 'map-conflict.png') });

  // --- privacy: an operator's page and raw stream never name another operator
  const alicePage = await (await browser.newContext()).newPage();
  await alicePage.goto(`${env.MAP_URL}#47.40,8.55,14`);
  await alicePage.fill('#token', alice);
  await alicePage.click('#signin-button');
  await alicePage.waitForSelector('#status[data-state="live"]', { timeout: 5000 });
  await alicePage.waitForSelector('#aircraft li', { timeout: 5000 });
  const session = await fetch(`${env.MAP_URL}api/session`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ token: alice }) });
  const cookie = session.headers.get('set-cookie').split(';')[0];
  const controller = new AbortController();
  const stream = await fetch(`${env.MAP_URL}api/events?bbox=47.38,8.52,47.42,8.58`, { headers: { Cookie: cookie }, signal: controller.signal });
  let raw = '';
  const reader = stream.body.getReader();
  const until = Date.now() + 3000;
  while (Date.now() < until && !raw.includes('event: alert')) {
    const { value, done } = await Promise.race([reader.read(), new Promise((r) => setTimeout(() => r({}), 500))]);
    if (done) break;
    if (value) raw += new TextDecoder().decode(value);
  }
  controller.abort();
  if (!raw.includes('event: aircraft') || !raw.includes('event: intent')) fail(`alice's stream lacks aircraft or intents: ${raw.slice(0, 500)}`);
  const html = await alicePage.content();
  for (const [what, text] of [['page', html], ['event stream', raw]]) {
    for (const secret of ['bob-secret-op', 'bob-drone-7']) {
      if (text.includes(secret)) fail(`alice's ${what} names another operator's ${secret}`);
    }
  }
  const intentsShown = await alicePage.locator('#intents li').count();
  if (intentsShown !== 2) fail(`alice sees ${intentsShown} intents, want 2 (hers and bob's, redacted)`);
  if (!(await alicePage.textContent('#intents')).includes('alice')) fail("alice's own intent lacks her name");
  console.log("ok: alice's page and raw stream show bob's intent redacted and never name bob or his aircraft");

  // --- Remote ID: a display token's layer shows the drones as the public
  // display does (a view under 2 km across: flights), never who flies them
  if (!(await page.locator('#rid-toggle').isHidden())) fail("a monitor's token has a Remote ID layer");
  const ridPage = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  ridPage.on('pageerror', (e) => consoleErrors.push(String(e)));
  await ridPage.goto(`${env.MAP_URL}#47.40,8.55,17`);
  await ridPage.fill('#token', display);
  await ridPage.click('#signin-button');
  await ridPage.waitForSelector('#status[data-state="live"]', { timeout: 5000 });
  if (await ridPage.locator('#rid-toggle').isHidden()) fail('no Remote ID toggle for a display token');
  await ridPage.waitForSelector('#rid li[data-source="NETWORK"]', { timeout: 5000 });
  const ridDrawn = () => ridPage.locator('path.utm-rid').count();
  if ((await ridDrawn()) < 1) fail('a Remote ID flight is listed but not drawn');
  const ridHtml = await ridPage.content();
  for (const secret of ['alice', 'bob-secret-op', 'bob-drone-7']) {
    if (ridHtml.includes(secret)) fail(`the Remote ID page names ${secret}`);
  }
  await ridPage.screenshot({ path: join(env.ARTIFACTS, 'map-remote-id.png') });
  await ridPage.click('#rid-layer');
  if ((await ridDrawn()) !== 0) fail('the Remote ID toggle did not hide the layer');
  await ridPage.click('#rid-layer');
  if ((await ridDrawn()) < 1) fail('the Remote ID toggle did not show the layer again');
  console.log(`ok: a display token sees ${await ridPage.locator('#rid li').count()} Remote ID flight(s), toggled off and on, naming no one`);

  await page.waitForFunction(() => document.querySelectorAll('#alerts li').length === 0, null, { timeout: 30000 });
  await page.waitForFunction(() => document.querySelectorAll('path.utm-aircraft.utm-alerted').length === 0, null, { timeout: 5000 });
  if ((await page.locator('path.utm-alert-pair').count()) !== 0) fail('the alert line outlived the alert');
  console.log('ok: the conflict cleared: no alert listed, no aircraft highlighted');
  await page.screenshot({ path: join(env.ARTIFACTS, 'map-cleared.png') });
  if (consoleErrors.length) fail(`page errors: ${consoleErrors.join('; ')}`);
  console.log(`screenshots: ${join(env.ARTIFACTS, 'map-tfr.png')}, map-conflict.png, map-remote-id.png, map-cleared.png`);
} finally {
  await browser.close();
  // The flights land by themselves (28 s); killed only if they do not.
  const landed = fliers.map((p) => (p.exitCode !== null ? Promise.resolve() : new Promise((r) => p.on('exit', r))));
  await Promise.race([Promise.all(landed), new Promise((r) => setTimeout(r, 20000))]);
  for (const p of fliers) if (p.exitCode === null) p.kill('SIGKILL');
}
