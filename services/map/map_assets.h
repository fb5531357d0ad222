// The map's static files (web/: the page, its bundled script and style, the
// offline basemap inside the script), embedded in utmd at build time from
// the esbuild bundle. A build without web/node_modules embeds none: utmd
// still starts, and says so when asked for the page.
#ifndef UTM_SERVICES_MAP_MAP_ASSETS_H_
#define UTM_SERVICES_MAP_MAP_ASSETS_H_

#include <cstddef>

namespace utm::map {

struct MapAsset {
  const char* path;          // "/index.html", "/app.js", ...
  const char* content_type;  // "text/html; charset=utf-8", ...
  const unsigned char* data;
  size_t size;
};

// The embedded files, `count` of them (0 when built without assets). Static
// storage, immutable.
const MapAsset* EmbeddedMapAssets(size_t* count);

}  // namespace utm::map

#endif  // UTM_SERVICES_MAP_MAP_ASSETS_H_
