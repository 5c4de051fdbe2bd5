// The explorer (issue 17, item 4): GraphiQL at GET /graphql for a browser, on when
// introspection is (PTS_INTROSPECTION; `pts dev` by default). What the page loads comes from
// npm packages, served by static-files.ts under /graphql/assets/: GraphiQL's browser build
// (the graphiql package, whose 4.x line is the last to ship one) on React 18's UMD builds,
// and our start script (explorer/start.js).
import type { IncomingMessage } from 'node:http';
import { ASSET_PATH, besides, CSS, HtmlPage, inPackage, JS, pagePolicy, REACT_ASSETS, type Asset } from './static-files.js';

/** What the page loads, by name under /graphql/assets/, in the order it loads the scripts. */
export const EXPLORER_ASSETS: Record<string, Asset> = {
  'graphiql.min.css': { path: () => inPackage('graphiql', 'graphiql.min.css'), type: CSS },
  ...REACT_ASSETS,
  'graphiql.min.js': { path: () => inPackage('graphiql', 'graphiql.min.js'), type: JS },
  'explorer.js': { path: () => besides(import.meta.url, './explorer/start.js'), type: JS },
};

const scripts = Object.keys(EXPLORER_ASSETS).filter((name) => name.endsWith('.js'));
const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>pts GraphQL explorer</title>
<link rel="stylesheet" href="${ASSET_PATH}graphiql.min.css">
<style>body { margin: 0; } #graphiql { height: 100vh; }</style>
</head>
<body>
<div id="graphiql">Loading the explorer...</div>
${scripts.map((name) => `<script src="${ASSET_PATH}${name}"></script>`).join('\n')}
</body>
</html>
`;

/** The explorer's page (its files are EXPLORER_ASSETS). */
export function explorerPage(): HtmlPage {
  return new HtmlPage(PAGE, pagePolicy());
}

/** Whether `req` is a browser opening /graphql: GET or HEAD, HTML accepted, no `query` parameter. */
export function wantsExplorer(req: IncomingMessage, search: string): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  if (!req.headers.accept?.includes('text/html')) return false;
  return !new URLSearchParams(search).has('query');
}
