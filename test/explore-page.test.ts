/**
 * The Explore page object's locators in a real Chromium, on a page that imitates the parts of
 * Explore it relies on: the container `data-testid="data-testid Explore"` and the error alert
 * `data-testid="data-testid Alert error"` (both from @grafana/e2e-selectors), and log rows as
 * text. This checks the locators, not Grafana: OBS-05's UI test runs them on the real Explore.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from '@playwright/test';
import { ExplorePage } from '../fixtures/grafana/explore-page.ts';
import { escapeRegex } from '../fixtures/loki/logql.ts';

const executablePath = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => p && existsSync(p));
const id = (n: number) => `obsmk-r1-w0-${n}`;
const rows = Array.from({ length: 12 }, (_, i) => `<div class="log-row">obs-acceptance marker run=r1 id=${id(i + 1)} seq=${i + 1} of=12 written_ns=1</div>`).join('');

void describe('Explore page object in Chromium (imitated Explore DOM)', { skip: executablePath ? false : 'no Chromium here (set CHROMIUM_PATH)' }, () => {
  let browser: Browser;
  let page: Page;
  before(async () => {
    browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
    page = await browser.newPage();
  });
  after(() => browser?.close());

  void it('finds one line exactly (line 1 is not line 10, 11 or 12) inside the Explore container', async () => {
    await page.setContent(`<main data-testid="data-testid Explore"><textarea>{namespace="x"} |= "obsmk-r1-w0-"</textarea>${rows}</main>`);
    const explore = new ExplorePage(page, 'http://grafana.invalid/');
    assert.equal(await explore.container().count(), 1);
    const one = new RegExp(`id=${escapeRegex(id(1))} seq=`);
    assert.equal(await explore.container().getByText(one).count(), 1);
    assert.equal(await explore.logLine(one).isVisible(), true);
    assert.equal(await explore.logLine(new RegExp(`id=${escapeRegex(id(13))} seq=`)).count(), 0);
    assert.equal(await explore.queryError().count(), 0);
  });

  void it('sees the error banner when Explore shows one', async () => {
    await page.setContent('<main data-testid="data-testid Explore"><div data-testid="data-testid Alert error">parse error</div></main>');
    assert.equal(await new ExplorePage(page, 'http://g').queryError().count(), 1);
  });

  void it('does not take an error toast outside the Explore pane for a query error', async () => {
    await page.setContent(`<div data-testid="data-testid Alert error">Failed to load plugin</div><main data-testid="data-testid Explore">${rows}</main>`);
    assert.equal(await new ExplorePage(page, 'http://g').queryError().count(), 0);
  });
});
