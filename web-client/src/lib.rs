//! viva-web-client
