"""Systems outside the city's control (dispatch systems, pagers, recorders), behind interfaces."""
