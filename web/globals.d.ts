// What the page's classic scripts (web/index.html) put on the window for the modules: Leaflet's `L` (typed by
// @types/leaflet) and uPlot.
declare const uPlot: any;
