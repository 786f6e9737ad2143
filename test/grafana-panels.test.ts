/**
 * OBS-02's panel-state reading (fixtures/grafana/dashboards.ts) in a real Chromium, on a page
 * that imitates the DOM Grafana 13 renders for a dashboard panel, through plugin-e2e's own
 * `DashboardPage` model and the bundled, version-resolved selectors. The markup follows:
 * - grafana/scenes packages/scenes/src/components/VizPanel/VizPanelRenderer.tsx: the wrapper
 *   `data-viz-panel-key="panel-<id>"`; PanelChrome only once the panel has a size; the panel
 *   plugin mounted only when `isDataReadyToDisplay()` (after the first answer), so a panel
 *   waiting for template variables has an empty content area and no loading bar;
 * - @grafana/ui 13.1.0 (npm; sources in its source maps) src/components/PanelChrome/PanelChrome.tsx
 *   and LoadingBar/LoadingBar.tsx: the loading-bar container as the section's first child, the
 *   bar `<div aria-label={t('grafana-ui.panel-chrome.ariaLabel-panel-loading', 'Panel loading bar')}
 *   role="status">` only while loading, PanelStatus (`data-testid Panel status error`,
 *   aria-label translated), the content `data-testid panel content`;
 * - public/app/features/panel/components/PanelDataErrorView.tsx (`data-testid Panel data error
 *   message`, "No data"); a stat panel's own "No data" text; grafana-ui ErrorBoundaryAlert
 *   (Alert, `data-testid Alert error`) when a visualization crashes.
 * The same panels are drawn a second time with every translated label in German (the exact
 * de-DE wording does not matter, only that it is not the English one): each state must read the
 * same, since a Grafana whose UI language is not English must not turn a loading panel into a
 * waiting one. The stat panel's "No data" stays English in every language: @grafana/data 13.1.0
 * src/field/fieldDisplay.ts writes it as a fixed string.
 * This checks the reading, not Grafana: OBS-02's UI tests run it on the real dashboards.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { resolveSelectors, versionedComponents, versionedPages } from '@grafana/e2e-selectors';
import { DashboardPage } from '@grafana/plugin-e2e';
import { chromium, type Browser, type Page } from '@playwright/test';
import { DashboardView, panelState, readPanels, versionAtLeast } from '../fixtures/grafana/dashboards.ts';
import { BROWSER_LOCALE, pinUiLanguage, uiLanguage } from '../fixtures/grafana/ui-language.ts';
import { startReplayServer } from './support/replay-server.ts';
import type { GrafanaDashboard } from '../fixtures/grafana/client.ts';

const executablePath = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => p && existsSync(p));
const GRAFANA_VERSION = '13.1.0';

const LABELS = {
  en: { loadingBar: 'Panel loading bar', panelStatus: 'Panel status' },
  de: { loadingBar: 'Ladebalken des Panels', panelStatus: 'Panel-Status' },
};
type Lang = keyof typeof LABELS;
const PLOT = '<div data-testid="uplot-main-div"><canvas></canvas></div>';

/** A scenes panel as Grafana 13.1 renders it; `content` undefined = PanelChrome not rendered yet (no size). */
function panel(id: number, o: { loading?: boolean; status?: boolean; content?: string; lang?: Lang } = {}): string {
  if (o.content === undefined) return `<div data-viz-panel-key="panel-${id}"></div>`;
  const l = LABELS[o.lang ?? 'en'];
  const loading = `<div style="overflow: hidden;"><div aria-label="${l.loadingBar}" role="status" class="css-bar"></div></div>`;
  const status = `<button data-testid="data-testid Panel status error" aria-label="${l.panelStatus}"></button>`;
  return (
    `<div data-viz-panel-key="panel-${id}"><section data-testid="data-testid Panel header P${id}" tabindex="0">` +
    `<div class="css-loading-bar-container">${o.loading ? loading : ''}</div>` +
    `<div data-testid="data-testid header-container">${o.status ? status : ''}<h2>P${id}</h2></div>` +
    `<div data-testid="data-testid panel content">${o.content}</div></section></div>`
  );
}

const CASES: Array<{ id: number; title: string; html: string; want: string }> = [
  { id: 1, title: 'time series with data', html: panel(1, { content: PLOT }), want: 'data' },
  { id: 2, title: 'waiting for variables: no loading bar, empty content', html: panel(2, { content: '' }), want: 'waiting' },
  { id: 3, title: 'first query running', html: panel(3, { loading: true, content: '' }), want: 'loading' },
  { id: 4, title: 'auto-refresh: loading bar over the previous plot', html: panel(4, { loading: true, content: PLOT }), want: 'data' },
  { id: 5, title: 'PanelDataErrorView "No data"', html: panel(5, { content: '<div data-testid="data-testid Panel data error message"><p>No data</p></div>' }), want: 'no-data' },
  { id: 6, title: 'stat panel showing "No data"', html: panel(6, { content: '<div><span>No data</span></div>' }), want: 'no-data' },
  { id: 7, title: 'query error: status icon, previous plot still drawn', html: panel(7, { status: true, content: PLOT }), want: 'error' },
  { id: 8, title: 'visualization crashed: error boundary alert', html: panel(8, { content: '<div data-testid="data-testid Alert error">Panel plugin error</div>' }), want: 'error' },
  { id: 9, title: 'panel not measured yet (no PanelChrome)', html: panel(9), want: 'waiting' },
  { id: 11, title: 'German UI: first query running', html: panel(11, { loading: true, content: '', lang: 'de' }), want: 'loading' },
  { id: 12, title: 'German UI: auto-refresh over the previous plot', html: panel(12, { loading: true, content: PLOT, lang: 'de' }), want: 'data' },
  { id: 13, title: 'German UI: query error', html: panel(13, { status: true, content: PLOT, lang: 'de' }), want: 'error' },
  { id: 14, title: 'German UI: PanelDataErrorView with its translated text', html: panel(14, { content: '<div data-testid="data-testid Panel data error message"><p>Keine Daten</p></div>', lang: 'de' }), want: 'no-data' },
  { id: 15, title: 'German UI: stat panel "No data" (never translated)', html: panel(15, { content: '<div><span>No data</span></div>', lang: 'de' }), want: 'no-data' },
  { id: 16, title: 'a role="status" inside the visualization is not a loading bar', html: panel(16, { content: `${PLOT}<div role="status">Info</div>` }), want: 'data' },
];

const dashboard: GrafanaDashboard = {
  uid: 'imitated',
  title: 'Imitated',
  panels: [...CASES, { id: 10, title: 'never rendered', html: '', want: 'not-rendered' }].map((c, i) => ({
    id: c.id,
    type: 'timeseries',
    title: c.title,
    gridPos: { h: 8, w: 12, x: 0, y: i * 8 },
    targets: [{ refId: 'A', expr: `up{case="${c.id}"}` }],
  })),
};

void describe('OBS-02 panel states in Chromium (imitated Grafana 13.1 panel DOM in English and German, plugin-e2e DashboardPage)', { skip: executablePath ? false : 'no Chromium here (set CHROMIUM_PATH)' }, () => {
  let browser: Browser;
  let page: Page;
  let view: DashboardView;
  before(async () => {
    browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
    page = await browser.newPage();
    await page.setContent(`<main>${CASES.map((c) => c.html).join('')}</main>`);
    const selectors = { components: resolveSelectors(versionedComponents, GRAFANA_VERSION), pages: resolveSelectors(versionedPages, GRAFANA_VERSION) };
    const ctx = { page, selectors, grafanaVersion: GRAFANA_VERSION, request: page.request } as unknown as ConstructorParameters<typeof DashboardPage>[0];
    view = new DashboardView(new DashboardPage(ctx, { uid: dashboard.uid }), dashboard, 'http://grafana.invalid');
  });
  after(() => browser?.close());

  for (const c of CASES) {
    void it(`${c.title} → ${c.want}`, async () => {
      assert.equal(await panelState(view, c.id), c.want);
    });
  }

  void it('readPanels reports every panel with a query, a panel missing from the page as not-rendered', async () => {
    const panels = await readPanels(view);
    assert.deepEqual(
      panels.map((p) => `${p.id}:${p.state}`),
      [...CASES.map((c) => `${c.id}:${c.want}`), '10:not-rendered'],
    );
    assert.equal(panels[0]?.queries[0], 'up{case="1"}');
  });

  void it('the dashboard-wide error indicator counts status icons only (what plugin-e2e toHavePanelErrors counts)', async () => {
    assert.equal(await view.panelErrors.count(), 2);
  });

  void it('compares Grafana versions as plugin-e2e does (unknown = newest)', () => {
    assert.equal(versionAtLeast('13.0.1', '11.1.0'), true);
    assert.equal(versionAtLeast('11.0.9', '11.1.0'), false);
    assert.equal(versionAtLeast('11.1.0', '11.1.0'), true);
    assert.equal(versionAtLeast('', '11.1.0'), true);
  });
});

void describe('the session language is set before Grafana reads it (Chromium)', { skip: executablePath ? false : 'no Chromium here (set CHROMIUM_PATH)' }, () => {
  void it('a page whose boot data says de-DE runs its app bundle with en-US', async () => {
    // Grafana's index.html writes window.grafanaBootData in an inline script; the app bundle,
    // loaded after it, initialises i18n from grafanaBootData.user.language (@grafana/i18n 13.1.0).
    const server = await startReplayServer({
      'GET /': {
        headers: { 'content-type': 'text/html' },
        body: '<html><head><script>window.grafanaBootData = { user: { language: "de-DE", isSignedIn: true }, settings: {} };</script></head><body><script src="/public/build/app.js"></script></body></html>',
      },
      'GET /public/build/app.js': { headers: { 'content-type': 'text/javascript' }, body: 'document.title = "i18n:" + window.grafanaBootData.user.language;' },
    });
    const browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
    try {
      const context = await browser.newContext({ locale: BROWSER_LOCALE });
      await context.addInitScript(pinUiLanguage, BROWSER_LOCALE);
      const page = await context.newPage();
      await page.goto(server.url);
      assert.equal(await page.title(), 'i18n:en-US');
      assert.equal(await uiLanguage(page), 'en-US');
      assert.equal(await page.evaluate(() => navigator.language), 'en-US');
    } finally {
      await browser.close();
      await server.close();
    }
  });
});
