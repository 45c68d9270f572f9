// Runs graphql-http's auditServer against a live keyward and prints the results as JSON.
// usage: node audit.cjs TOOLS_DIR URL   (TOOLS_DIR holds the node_modules of package.json)
const [toolsDir, url] = process.argv.slice(2);
const { auditServer } = require(require.resolve("graphql-http", { paths: [toolsDir] }));

auditServer({ url })
  .then((results) => {
    const rows = results.map(({ id, name, status, reason }) => ({ id, name, status, reason }));
    process.stdout.write(JSON.stringify(rows));
  })
  .catch((error) => {
    console.error(error);
    process.exit(2);
  });
