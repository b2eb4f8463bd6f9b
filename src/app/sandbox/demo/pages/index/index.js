Page({ data: { items: 3 } })
