"""NHS proportionate-universalism allocation optimiser."""
