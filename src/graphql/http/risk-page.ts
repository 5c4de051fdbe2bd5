// The risk page (issue 17, item 5): at GET / in a browser when PTS_RISK_PAGE is on (`pts dev`
// by default; `pts start`/`serve` only with PTS_RISK_PAGE=true). The accounts riskiest
// first, margin transitions as they happen, and one account's positions, equity chart and
// distance to liquidation, all kept live by subscriptions (risk-page/README.md).
//
// Served like the explorer (static-files.ts): npm packages' browser builds and the page's
// own scripts (risk-page/*.js, ES modules run as they are), under /graphql/assets/, nothing
// from elsewhere. React and graphql-ws come as their UMD builds (globals); uPlot and
// decimal.js as single-file ES modules, which the page's modules import by package name
// through an import map, so the same modules run in Node (their unit tests) and in the page.
// The import map is an inline script: the page's CSP allows it by its hash.
import { ASSET_PATH, besides, CSS, HtmlPage, inPackage, JS, pagePolicy, REACT_ASSETS, scriptHash, type Asset } from './static-files.js';

const own = (file: string): Asset => ({ path: () => besides(import.meta.url, `./risk-page/${file}`), type: file.endsWith('.css') ? CSS : JS });

/** What the page loads, by name under /graphql/assets/. */
export const RISK_PAGE_ASSETS: Record<string, Asset> = {
  ...REACT_ASSETS,
  'graphql-ws.min.js': { path: () => inPackage('graphql-ws', 'umd/graphql-ws.min.js'), type: JS },
  'uPlot.esm.js': { path: () => inPackage('uplot', 'dist/uPlot.esm.js'), type: JS },
  'uPlot.min.css': { path: () => inPackage('uplot', 'dist/uPlot.min.css'), type: CSS },
  'decimal.mjs': { path: () => inPackage('decimal.js', 'decimal.mjs'), type: JS },
  'risk-page/app.js': own('app.js'),
  'risk-page/live.js': own('live.js'),
  'risk-page/model.js': own('model.js'),
  'risk-page/style.css': own('style.css'),
};

/** Package names the page's modules import, and the files that answer them. */
const IMPORT_MAP = JSON.stringify({ imports: { 'decimal.js': `${ASSET_PATH}decimal.mjs`, uplot: `${ASSET_PATH}uPlot.esm.js` } });

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>pts risk</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${ASSET_PATH}uPlot.min.css">
<link rel="stylesheet" href="${ASSET_PATH}risk-page/style.css">
<script type="importmap">${IMPORT_MAP}</script>
</head>
<body>
<div id="root">Loading the risk page...</div>
<script src="${ASSET_PATH}react.production.min.js"></script>
<script src="${ASSET_PATH}react-dom.production.min.js"></script>
<script src="${ASSET_PATH}graphql-ws.min.js"></script>
<script type="module" src="${ASSET_PATH}risk-page/app.js"></script>
</body>
</html>
`;

/** The risk page (its files are RISK_PAGE_ASSETS). */
export function riskPage(): HtmlPage {
  return new HtmlPage(PAGE, pagePolicy([scriptHash(IMPORT_MAP)]));
}
