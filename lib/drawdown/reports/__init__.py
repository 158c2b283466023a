"""Reports: what the report notebooks read (the run's artifacts), the chart and table builders
and narrative they show, the renderers (Quarto, or nbconvert + Chromium) and the exports for
other systems (CRM file, chat digest)."""
