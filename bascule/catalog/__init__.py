"""The catalogue: plans, networks, APNs, fees, packs, prepaid profiles and policies, held as data."""
