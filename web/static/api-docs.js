// The API's documentation page (/api/docs): Swagger UI, shipped in the package, reading /api/openapi.json.
window.addEventListener("load", function () {
  "use strict";
  window.SwaggerUIBundle({url: "/api/openapi.json", dom_id: "#swagger-ui", deepLinking: false,
                          defaultModelsExpandDepth: -1, tryItOutEnabled: true});
});
