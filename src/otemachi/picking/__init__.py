"""otemachi.picking: Language-guided pick-and-place in a simulated tabletop world."""
