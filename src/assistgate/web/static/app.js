// Shared behaviour; pages add their own scripts as files (the CSP forbids inline script).
"use strict";
