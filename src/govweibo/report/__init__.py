"""Report building: yearly report artefacts such as the province choropleth map."""
