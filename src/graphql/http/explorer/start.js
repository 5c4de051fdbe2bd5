// The explorer page's own script (served as /graphql/assets/explorer.js, after React and
// GraphiQL's browser build): GraphiQL on this server's /graphql, queries over HTTP (JSON
// POSTs, which pass the API's CSRF prevention) and subscriptions over WebSocket
// (graphql-ws, bundled in GraphiQL's build). With PTS_API_KEYS, put
// {"authorization": "Bearer <key>"} in the Headers tab: GraphiQL sends it with each HTTP
// request and as the WebSocket's connection parameters, where the API looks for it.
'use strict';
(function () {
  var url = location.origin + '/graphql';
  var fetcher = GraphiQL.createFetcher({ url: url, subscriptionUrl: url.replace(/^http/, 'ws') });
  var defaultQuery = [
    '# pts: positions and live risk of on-chain derivatives accounts.',
    '# Ctrl-Enter runs the operation; Docs (top left) describes every type and field, with',
    '# its unit. Subscriptions run here too (try `subscription { blockCommitted { blockNumber } }`).',
    '',
    'query Riskiest {',
    '  meta { blockNumber blockTimestamp }',
    '  accounts(first: 5, orderBy: RISK_DESC) {',
    '    edges { node { id marginState collateral equity maintenanceMargin marginRatio leverage } }',
    '  }',
    '}',
    '',
  ].join('\n');
  ReactDOM.createRoot(document.getElementById('graphiql')).render(
    React.createElement(GraphiQL, { fetcher: fetcher, defaultQuery: defaultQuery, defaultEditorToolsVisibility: true }),
  );
})();
