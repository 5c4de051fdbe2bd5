// The README's picture of the risk page (docs/risk-page.png): with `npm start` running (a
// minute in, so that the demo has transitions), opens the page in headless chromium,
// chooses the riskiest account, lets its equity chart gather samples, and saves the page.
//   node bin/run-ts.js scripts/risk-page-screenshot.ts [url] [file] [seconds of samples]
import { launchBrowser } from '../test/support/browser.js';

const [url = 'http://localhost:4000/', file = 'docs/risk-page.png', seconds = '25'] = process.argv.slice(2);
const browser = await launchBrowser();
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
  page.on('pageerror', (error) => console.error('page error:', String(error)));
  await page.goto(url);
  await page.click('tr[data-account]:first-child');
  await page.waitForSelector('.equity-chart canvas');
  await page.waitForTimeout(Number(seconds) * 1000);
  await page.screenshot({ path: file, fullPage: true });
  console.log(`saved ${file}`);
} finally {
  await browser.close();
}
