"""JSON API (/api/v1) assembled from the domains' routers."""
