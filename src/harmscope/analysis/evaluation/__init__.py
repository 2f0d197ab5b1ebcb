"""Did a scheme work, here, and how sure are we? Could we even tell before funding it?

Modules: panel (area x month counts from the store), design (a scheme's areas as treated
units and a comparison pool), matching (comparison areas), did (difference-in-differences
GLM), synth (synthetic control), its (interrupted time series), power (minimum detectable
effects, overdispersion, design effect), placebo (false-positive rates, planted effects),
verdict (plain-language conclusions), evaluate (one scheme, all methods), register_power
(the register's MDEs), charts (Vega-Lite), prop99 (the ADH 2010 reference check).
"""
