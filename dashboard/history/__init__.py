"""The trend's history (docs/trend.md): where a pen's values come from (sources), how they
are cut down to the chart's width (downsample), kept briefly (cache), and the dashboard's
own per-minute store (minutes)."""
