// Ambient types for Vite (CSS imports, import.meta.env).
/// <reference types="vite/client" />
