/** Stands in for the plugin's source when the page loads the built dist/module.js (the default). */
export const plugin = undefined;
