"""The invented world of the synthetic MuseumWeek: countries, cities, time zones, languages,
institution and person names, and the texts people write in each language.

Everything here is made up for the demo generator (``salon.demo.generator``): institution names
are combinations of generic parts, handles are derived from them, and no account is real.
"""

from __future__ import annotations

# The 8 official hashtags of MuseumWeek 2015: #MuseumWeek plus one per theme day, in day order.
CAMPAIGN_TAG = "MuseumWeek"
THEMES: tuple[tuple[str, str], ...] = (
    ("Secrets", "SecretsMW"),
    ("Souvenirs", "SouvenirsMW"),
    ("Architecture", "ArchitectureMW"),
    ("Inspiration", "InspirationMW"),
    ("Family", "FamilyMW"),
    ("Favourites", "FavouritesMW"),
    ("Pose", "PoseMW"),
)

# Languages with texts below; institutions elsewhere post in English.
LANGS = ("fr", "en", "es", "de", "it", "pt", "nl")

# (ISO 3166-1 alpha-2, weight, language, default time zone, cities). A city is "Name" or
# "Name|Time/Zone" or "Name|Time/Zone|lang" when it differs from the country's.
COUNTRIES: tuple[tuple[str, float, str, str, tuple[str, ...]], ...] = (
    ("FR", 18, "fr", "Europe/Paris", ("Paris", "Lyon", "Marseille", "Bordeaux", "Lille", "Strasbourg",
                                      "Nantes", "Toulouse", "Rennes", "Rouen", "Montpellier", "Nice",
                                      "Grenoble", "Dijon", "Avignon", "Nancy", "Reims", "Arles",
                                      "Limoges", "Orléans")),
    ("ES", 9, "es", "Europe/Madrid", ("Madrid", "Barcelona", "Sevilla", "Valencia", "Bilbao", "Málaga",
                                      "Zaragoza", "Córdoba", "Salamanca", "Las Palmas|Atlantic/Canary")),
    ("IT", 8, "it", "Europe/Rome", ("Roma", "Milano", "Firenze", "Napoli", "Torino", "Venezia", "Bologna",
                                    "Genova", "Palermo", "Verona")),
    ("GB", 8, "en", "Europe/London", ("London", "Edinburgh", "Manchester", "Cardiff", "Glasgow",
                                      "Liverpool", "Bristol", "York", "Oxford", "Belfast")),
    ("US", 8, "en", "America/New_York", ("New York", "Boston", "Washington", "Philadelphia",
                                         "Chicago|America/Chicago", "Houston|America/Chicago",
                                         "Denver|America/Denver", "Los Angeles|America/Los_Angeles",
                                         "San Francisco|America/Los_Angeles", "Seattle|America/Los_Angeles")),
    ("DE", 5, "de", "Europe/Berlin", ("Berlin", "München", "Hamburg", "Köln", "Frankfurt am Main", "Dresden",
                                      "Leipzig", "Stuttgart")),
    ("BE", 3, "fr", "Europe/Brussels", ("Bruxelles", "Liège", "Namur", "Gent|Europe/Brussels|nl",
                                        "Antwerpen|Europe/Brussels|nl", "Brugge|Europe/Brussels|nl")),
    ("CH", 3, "de", "Europe/Zurich", ("Zürich", "Basel", "Bern", "Genève|Europe/Zurich|fr",
                                      "Lausanne|Europe/Zurich|fr", "Lugano|Europe/Zurich|it")),
    ("CA", 3, "en", "America/Toronto", ("Toronto", "Ottawa", "Montréal|America/Toronto|fr",
                                        "Québec|America/Toronto|fr", "Vancouver|America/Vancouver",
                                        "Calgary|America/Edmonton")),
    ("MX", 3, "es", "America/Mexico_City", ("Ciudad de México", "Guadalajara", "Oaxaca", "Puebla",
                                            "Monterrey|America/Monterrey")),
    ("AR", 2, "es", "America/Argentina/Buenos_Aires", ("Buenos Aires", "Córdoba", "Rosario", "Mendoza")),
    ("BR", 2, "pt", "America/Sao_Paulo", ("São Paulo", "Rio de Janeiro", "Belo Horizonte",
                                          "Salvador|America/Bahia", "Recife|America/Recife")),
    ("PT", 2, "pt", "Europe/Lisbon", ("Lisboa", "Porto", "Coimbra", "Braga", "Funchal|Atlantic/Madeira")),
    ("NL", 2, "nl", "Europe/Amsterdam", ("Amsterdam", "Rotterdam", "Den Haag", "Utrecht", "Leiden")),
    ("AT", 1.5, "de", "Europe/Vienna", ("Wien", "Salzburg", "Graz", "Innsbruck")),
    ("LU", 1, "fr", "Europe/Luxembourg", ("Luxembourg", "Esch-sur-Alzette")),
    ("IE", 1, "en", "Europe/Dublin", ("Dublin", "Cork", "Galway")),
    ("DK", 1, "en", "Europe/Copenhagen", ("København", "Aarhus", "Odense")),
    ("SE", 1, "en", "Europe/Stockholm", ("Stockholm", "Göteborg", "Malmö", "Uppsala")),
    ("NO", 1, "en", "Europe/Oslo", ("Oslo", "Bergen", "Trondheim")),
    ("FI", 1, "en", "Europe/Helsinki", ("Helsinki", "Turku", "Tampere")),
    ("IS", 0.5, "en", "Atlantic/Reykjavik", ("Reykjavík",)),
    ("PL", 1.5, "en", "Europe/Warsaw", ("Warszawa", "Kraków", "Gdańsk", "Wrocław", "Łódź")),
    ("CZ", 1, "en", "Europe/Prague", ("Praha", "Brno", "Olomouc")),
    ("HU", 0.7, "en", "Europe/Budapest", ("Budapest", "Pécs")),
    ("RO", 0.7, "en", "Europe/Bucharest", ("București", "Cluj-Napoca", "Sibiu")),
    ("BG", 0.5, "en", "Europe/Sofia", ("Sofia", "Plovdiv")),
    ("GR", 1, "en", "Europe/Athens", ("Athína", "Thessaloníki", "Irákleio")),
    ("HR", 0.5, "en", "Europe/Zagreb", ("Zagreb", "Split", "Dubrovnik")),
    ("SI", 0.5, "en", "Europe/Ljubljana", ("Ljubljana", "Maribor")),
    ("EE", 0.5, "en", "Europe/Tallinn", ("Tallinn", "Tartu")),
    ("LV", 0.5, "en", "Europe/Riga", ("Rīga",)),
    ("LT", 0.5, "en", "Europe/Vilnius", ("Vilnius", "Kaunas")),
    ("UA", 0.7, "en", "Europe/Kyiv", ("Kyiv", "Lviv", "Odesa")),
    ("TR", 0.8, "en", "Europe/Istanbul", ("İstanbul", "Ankara", "İzmir")),
    ("MT", 0.4, "en", "Europe/Malta", ("Valletta", "Mdina")),
    ("RU", 0.6, "en", "Europe/Moscow", ("Moskva", "Sankt-Peterburg")),
    ("MA", 1, "fr", "Africa/Casablanca", ("Rabat", "Marrakech", "Casablanca", "Fès")),
    ("TN", 0.7, "fr", "Africa/Tunis", ("Tunis", "Sfax", "Kairouan")),
    ("SN", 0.6, "fr", "Africa/Dakar", ("Dakar", "Saint-Louis")),
    ("ZA", 0.7, "en", "Africa/Johannesburg", ("Cape Town", "Johannesburg", "Durban")),
    ("EG", 0.5, "en", "Africa/Cairo", ("Cairo", "Alexandria", "Luxor")),
    ("KE", 0.4, "en", "Africa/Nairobi", ("Nairobi", "Mombasa")),
    ("NG", 0.4, "en", "Africa/Lagos", ("Lagos", "Abuja")),
    ("CL", 0.8, "es", "America/Santiago", ("Santiago", "Valparaíso")),
    ("CO", 0.8, "es", "America/Bogota", ("Bogotá", "Medellín", "Cartagena")),
    ("PE", 0.6, "es", "America/Lima", ("Lima", "Cusco", "Arequipa")),
    ("UY", 0.4, "es", "America/Montevideo", ("Montevideo",)),
    ("JP", 1, "en", "Asia/Tokyo", ("Tokyo", "Kyoto", "Osaka", "Nara")),
    ("KR", 0.7, "en", "Asia/Seoul", ("Seoul", "Busan", "Gyeongju")),
    ("CN", 0.5, "en", "Asia/Shanghai", ("Beijing", "Shanghai", "Xi'an")),
    ("TW", 0.5, "en", "Asia/Taipei", ("Taipei", "Tainan")),
    ("SG", 0.6, "en", "Asia/Singapore", ("Singapore",)),
    ("IN", 0.7, "en", "Asia/Kolkata", ("New Delhi", "Mumbai", "Kolkata", "Chennai")),
    ("AE", 0.5, "en", "Asia/Dubai", ("Abu Dhabi", "Dubai", "Sharjah")),
    ("IL", 0.5, "en", "Asia/Jerusalem", ("Tel Aviv", "Jerusalem", "Haifa")),
    ("AU", 1.2, "en", "Australia/Sydney", ("Sydney", "Canberra", "Melbourne|Australia/Melbourne",
                                           "Brisbane|Australia/Brisbane", "Perth|Australia/Perth",
                                           "Adelaide|Australia/Adelaide")),
    ("NZ", 0.6, "en", "Pacific/Auckland", ("Auckland", "Wellington", "Christchurch")),
)  # fmt: skip

# Institution kinds (the `kind` column of participants.csv) and how common each is.
KINDS: tuple[tuple[str, float], ...] = (
    ("museum", 70),
    ("library", 8),
    ("archive", 6),
    ("gallery", 6),
    ("heritage site", 6),
    ("science centre", 4),
)

# Institution name templates per language and kind: {subject} from SUBJECTS, {city}, {person}.
NAMES: dict[str, dict[str, tuple[str, ...]]] = {
    "fr": {
        "museum": ("Musée {subject} de {city}", "Musée {subject} de {city}", "Musée {person}"),
        "library": ("Bibliothèque municipale de {city}", "Bibliothèque patrimoniale de {city}",
                    "Médiathèque {person}"),
        "archive": ("Archives municipales de {city}", "Archives départementales de {city}"),
        "gallery": ("Galerie {person}", "Centre d'art contemporain de {city}", "Fondation {person}"),
        "heritage site": ("Château de {city}", "Abbaye de {city}", "Maison {person}"),
        "science centre": ("Muséum d'histoire naturelle de {city}", "Cité des sciences de {city}"),
    },
    "en": {
        "museum": ("{city} Museum of {subject}", "{city} Museum of {subject}", "The {person} Museum"),
        "library": ("{city} Central Library", "{city} City Library", "The {person} Library"),
        "archive": ("{city} City Archives", "{city} Record Office"),
        "gallery": ("{city} Art Gallery", "The {person} Gallery", "{person} Foundation"),
        "heritage site": ("{city} Castle", "{city} Abbey", "{person} House"),
        "science centre": ("{city} Natural History Museum", "{city} Science Centre"),
    },
    "es": {
        "museum": ("Museo {subject} de {city}", "Museo {subject} de {city}", "Casa Museo {person}"),
        "library": ("Biblioteca Municipal de {city}", "Biblioteca Pública de {city}"),
        "archive": ("Archivo Histórico de {city}", "Archivo Municipal de {city}"),
        "gallery": ("Galería {person}", "Centro de Arte Contemporáneo de {city}", "Fundación {person}"),
        "heritage site": ("Castillo de {city}", "Monasterio de {city}", "Palacio {person}"),
        "science centre": ("Museo de Ciencias Naturales de {city}", "Museo de la Ciencia de {city}"),
    },
    "de": {
        "museum": ("{subject}museum {city}", "{subject}museum {city}", "{person}-Haus"),
        "library": ("Stadtbibliothek {city}", "Landesbibliothek {city}"),
        "archive": ("Stadtarchiv {city}", "Landesarchiv {city}"),
        "gallery": ("Kunsthalle {city}", "Galerie {person}", "{person}-Stiftung"),
        "heritage site": ("Schloss {city}", "Kloster {city}", "Burg {person}"),
        "science centre": ("Naturkundemuseum {city}", "Science Center {city}"),
    },
    "it": {
        "museum": ("Museo {subject} di {city}", "Museo {subject} di {city}", "Casa Museo {person}"),
        "library": ("Biblioteca Civica di {city}", "Biblioteca Nazionale di {city}"),
        "archive": ("Archivio di Stato di {city}", "Archivio Storico di {city}"),
        "gallery": ("Galleria {person}", "Galleria d'Arte Moderna di {city}", "Fondazione {person}"),
        "heritage site": ("Castello di {city}", "Abbazia di {city}", "Villa {person}"),
        "science centre": ("Museo di Storia Naturale di {city}", "Museo della Scienza di {city}"),
    },
    "pt": {
        "museum": ("Museu {subject} de {city}", "Museu {subject} de {city}", "Casa Museu {person}"),
        "library": ("Biblioteca Municipal de {city}", "Biblioteca Pública de {city}"),
        "archive": ("Arquivo Histórico de {city}", "Arquivo Municipal de {city}"),
        "gallery": ("Galeria {person}", "Centro de Arte Contemporânea de {city}", "Fundação {person}"),
        "heritage site": ("Castelo de {city}", "Mosteiro de {city}", "Palácio {person}"),
        "science centre": ("Museu de História Natural de {city}", "Centro Ciência Viva de {city}"),
    },
    "nl": {
        "museum": ("{subject}museum {city}", "{subject}museum {city}", "Museum {person}"),
        "library": ("Bibliotheek {city}", "Stadsbibliotheek {city}"),
        "archive": ("Stadsarchief {city}", "Regionaal Archief {city}"),
        "gallery": ("Kunsthal {city}", "Galerie {person}", "Stichting {person}"),
        "heritage site": ("Kasteel {city}", "Abdij {city}", "Huis {person}"),
        "science centre": ("Natuurhistorisch Museum {city}", "Science Center {city}"),
    },
}  # fmt: skip

SUBJECTS: dict[str, tuple[str, ...]] = {
    "fr": ("des Beaux-Arts", "d'Histoire", "d'Art moderne", "archéologique", "de la Photographie",
           "des Arts décoratifs", "de la Marine", "du Textile", "de la Mode", "de l'Imprimerie",
           "du Jouet", "de la Musique", "de la Résistance", "du Vin", "de la Céramique",
           "de l'Automobile", "du Cinéma", "des Civilisations", "de la Bande dessinée", "du Vitrail"),
    "en": ("Fine Arts", "History", "Modern Art", "Archaeology", "Photography", "Decorative Arts",
           "the Sea", "Textiles", "Fashion", "Printing", "Childhood", "Music", "Transport",
           "Ceramics", "Cinema", "World Cultures", "Comics", "Science", "Design", "Industry"),
    "es": ("de Bellas Artes", "de Historia", "de Arte Moderno", "Arqueológico", "de la Fotografía",
           "de Artes Decorativas", "Naval", "del Textil", "del Traje", "de la Imprenta", "del Juguete",
           "de la Música", "del Ferrocarril", "de la Cerámica", "del Cine", "de América",
           "del Vino", "de Arte Sacro", "Etnográfico", "del Azulejo"),
    "de": ("Kunst", "Stadt", "Landes", "Archäologie", "Foto", "Kunstgewerbe", "Schifffahrts",
           "Textil", "Mode", "Druck", "Spielzeug", "Musikinstrumenten", "Verkehrs", "Keramik",
           "Film", "Völkerkunde", "Comic", "Technik", "Design", "Industrie"),
    "it": ("di Belle Arti", "Civico", "d'Arte Moderna", "Archeologico", "della Fotografia",
           "delle Arti Decorative", "del Mare", "del Tessuto", "della Moda", "della Stampa",
           "del Giocattolo", "della Musica", "dei Trasporti", "della Ceramica", "del Cinema",
           "delle Culture", "del Fumetto", "del Vino", "Diocesano", "del Vetro"),
    "pt": ("de Belas Artes", "de História", "de Arte Moderna", "Arqueológico", "da Fotografia",
           "de Artes Decorativas", "da Marinha", "do Têxtil", "do Traje", "da Imprensa",
           "do Brinquedo", "da Música", "dos Transportes", "da Cerâmica", "do Cinema",
           "do Azulejo", "do Vinho", "de Arte Sacra", "Etnográfico", "do Oriente"),
    "nl": ("Kunst", "Stads", "Modern Kunst", "Archeologie", "Foto", "Design", "Scheepvaart",
           "Textiel", "Mode", "Drukkerij", "Speelgoed", "Muziek", "Spoorweg", "Keramiek",
           "Film", "Wereld", "Strip", "Techniek", "Tegel", "Zilver"),
}  # fmt: skip

FIRST_NAMES: dict[str, tuple[str, ...]] = {
    "fr": ("Camille", "Léa", "Hugo", "Chloé", "Louis", "Inès", "Théo", "Manon", "Jérôme", "Hélène",
           "Zoé", "Benoît", "Amélie", "Noël", "Agnès", "Rémi"),
    "en": ("Emma", "Oliver", "Amelia", "Jack", "Sophie", "Harry", "Grace", "Noah", "Ruth", "Samuel",
           "Chloe", "Aidan", "Maya", "Liam", "Priya", "Kenji"),
    "es": ("Lucía", "Mateo", "Sofía", "Martín", "Valentina", "Álvaro", "Paula", "Hugo", "Irene",
           "Sebastián", "Carmen", "Íñigo", "Ana", "Joaquín", "Elena", "Raúl"),
    "de": ("Anna", "Jonas", "Lena", "Lukas", "Sophie", "Felix", "Marie", "Jürgen", "Hannah", "Björn",
           "Lea", "Maximilian", "Jörg", "Mia", "Uwe", "Käthe"),
    "it": ("Giulia", "Lorenzo", "Chiara", "Matteo", "Francesca", "Niccolò", "Sara", "Luca", "Elisa",
           "Andrea", "Martina", "Pietro", "Aurora", "Davide", "Giorgia", "Tommaso"),
    "pt": ("Beatriz", "João", "Inês", "Tiago", "Mariana", "Gonçalo", "Ana", "Rodrigo", "Leonor",
           "Luís", "Carolina", "Simão", "Júlia", "André", "Letícia", "Vinícius"),
    "nl": ("Sanne", "Daan", "Fleur", "Bram", "Eva", "Sem", "Lotte", "Thijs", "Anouk", "Joris",
           "Femke", "Ruben", "Noor", "Gijs", "Mila", "Sven"),
}  # fmt: skip

LAST_NAMES: dict[str, tuple[str, ...]] = {
    "fr": ("Martin", "Bernard", "Dubois", "Lefèvre", "Moreau", "Laurent", "Girard", "Rousseau",
           "Fontaine", "Chevalier", "Mercier", "Bonnet", "Lambert", "Garnier", "Faure", "Rivière"),
    "en": ("Smith", "Jones", "Taylor", "Brown", "Wilson", "Evans", "Walker", "Hughes", "Clarke",
           "Patel", "Wright", "Green", "Hall", "Morgan", "Bell", "Murphy"),
    "es": ("García", "Martínez", "López", "Sánchez", "Pérez", "Gómez", "Fernández", "Díaz", "Ruiz",
           "Jiménez", "Moreno", "Muñoz", "Álvarez", "Romero", "Navarro", "Ortega"),
    "de": ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
           "Schäfer", "Koch", "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Braun"),
    "it": ("Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci",
           "Marino", "Greco", "Bruno", "Gallo", "Conti", "De Luca", "Mancini", "Costa"),
    "pt": ("Silva", "Santos", "Ferreira", "Pereira", "Oliveira", "Costa", "Rodrigues", "Martins",
           "Sousa", "Fernandes", "Gonçalves", "Gomes", "Lopes", "Marques", "Alves", "Conceição"),
    "nl": ("de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Visser", "Smit",
           "Meijer", "de Boer", "Mulder", "de Groot", "Bos", "Vos", "Peters", "Hendriks"),
}  # fmt: skip

# What a post is about: {obj} in the templates below.
OBJECTS: dict[str, tuple[str, ...]] = {
    "fr": ("un carnet de croquis inédit", "une momie de chat", "un globe céleste de 1680",
           "une robe de bal brodée", "un herbier oublié", "une maquette de cathédrale",
           "un vitrail restauré", "une lettre de Victor Hugo", "un automate à musique",
           "une tapisserie flamande"),
    "en": ("a forgotten sketchbook", "a mummified cat", "a celestial globe from 1680",
           "an embroidered ball gown", "a lost herbarium", "a model of a cathedral",
           "a restored stained-glass window", "a letter from Charles Dickens", "a musical automaton",
           "a Flemish tapestry"),
    "es": ("un cuaderno de bocetos inédito", "un gato momificado", "un globo celeste de 1680",
           "un vestido de gala bordado", "un herbario olvidado", "una maqueta de catedral",
           "una vidriera restaurada", "una carta de Galdós", "un autómata musical",
           "un tapiz flamenco"),
    "de": ("ein unbekanntes Skizzenbuch", "eine Katzenmumie", "einen Himmelsglobus von 1680",
           "ein besticktes Ballkleid", "ein vergessenes Herbarium", "ein Kathedralenmodell",
           "ein restauriertes Glasfenster", "einen Brief von Goethe", "einen Musikautomaten",
           "einen flämischen Wandteppich"),
    "it": ("un taccuino di schizzi inedito", "un gatto mummificato", "un globo celeste del 1680",
           "un abito da ballo ricamato", "un erbario dimenticato", "un plastico di cattedrale",
           "una vetrata restaurata", "una lettera di Verdi", "un automa musicale",
           "un arazzo fiammingo"),
    "pt": ("um caderno de esboços inédito", "um gato mumificado", "um globo celeste de 1680",
           "um vestido de baile bordado", "um herbário esquecido", "uma maquete de catedral",
           "um vitral restaurado", "uma carta de Pessoa", "um autómato musical",
           "uma tapeçaria flamenga"),
    "nl": ("een onbekend schetsboek", "een gemummificeerde kat", "een hemelglobe uit 1680",
           "een geborduurde baljurk", "een vergeten herbarium", "een maquette van een kathedraal",
           "een gerestaureerd glas-in-loodraam", "een brief van Van Gogh", "een muziekautomaat",
           "een Vlaams wandtapijt"),
}  # fmt: skip

# Institution posts per theme (same order as THEMES); {obj}, {city}.
THEME_TEXTS: dict[str, tuple[tuple[str, ...], ...]] = {
    "fr": (
        ("Nos réserves cachent {obj}, jamais montré au public 🤫", "Secret de conservateur : derrière cette porte se trouve {obj}."),
        ("Souvenir d'une visite inoubliable : {obj} 💌", "Vos souvenirs du musée nous touchent, voici le nôtre : {obj}."),
        ("Levez les yeux ! Notre bâtiment de {city} a une histoire étonnante 🏛️", "Escaliers, verrières, colonnes : l'architecture de notre musée à {city}."),
        ("{obj} a inspiré des générations d'artistes ✨", "Qu'est-ce qui vous inspire dans nos salles ? Pour nous, c'est {obj}."),
        ("Ateliers en famille ce week-end à {city} 👨‍👩‍👧", "En famille, on découvre {obj} autrement."),
        ("Notre coup de cœur de la semaine : {obj} ❤️", "Votez pour votre œuvre préférée ! La nôtre : {obj}."),
        ("Prenez la pose comme nos statues 📸", "Défi du jour : imitez la pose de {obj} !"),
    ),
    "en": (
        ("Our stores hide {obj}, never shown to the public 🤫", "Curator's secret: behind this door is {obj}."),
        ("A memory from an unforgettable visit: {obj} 💌", "Your museum memories touch us, here is ours: {obj}."),
        ("Look up! Our building in {city} has a surprising story 🏛️", "Staircases, skylights, columns: the architecture of our museum in {city}."),
        ("{obj} has inspired generations of artists ✨", "What inspires you in our galleries? For us it is {obj}."),
        ("Family workshops this weekend in {city} 👨‍👩‍👧", "A family day out to discover {obj}."),
        ("Our favourite of the week: {obj} ❤️", "Vote for your favourite object! Ours is {obj}."),
        ("Strike a pose like our statues 📸", "Today's challenge: copy the pose of {obj}!"),
    ),
    "es": (
        ("Nuestros almacenes esconden {obj}, nunca expuesto 🤫", "Secreto de conservador: tras esta puerta está {obj}."),
        ("Recuerdo de una visita inolvidable: {obj} 💌", "Vuestros recuerdos del museo nos emocionan, aquí el nuestro: {obj}."),
        ("¡Mirad arriba! Nuestro edificio en {city} tiene una historia sorprendente 🏛️", "Escaleras, claraboyas, columnas: la arquitectura de nuestro museo en {city}."),
        ("{obj} ha inspirado a generaciones de artistas ✨", "¿Qué os inspira en nuestras salas? A nosotros, {obj}."),
        ("Talleres en familia este fin de semana en {city} 👨‍👩‍👧", "En familia se descubre {obj} de otra manera."),
        ("Nuestro favorito de la semana: {obj} ❤️", "¡Votad vuestra obra favorita! La nuestra: {obj}."),
        ("Posad como nuestras estatuas 📸", "Reto del día: imitad la pose de {obj}."),
    ),
    "de": (
        ("Unser Depot verbirgt {obj}, nie öffentlich gezeigt 🤫", "Geheimnis der Kuratorin: Hinter dieser Tür liegt {obj}."),
        ("Erinnerung an einen unvergesslichen Besuch: {obj} 💌", "Eure Museumserinnerungen berühren uns, hier ist unsere: {obj}."),
        ("Schaut nach oben! Unser Gebäude in {city} hat eine erstaunliche Geschichte 🏛️", "Treppen, Oberlichter, Säulen: die Architektur unseres Museums in {city}."),
        ("{obj} hat Generationen von Künstlern inspiriert ✨", "Was inspiriert euch in unseren Sälen? Uns: {obj}."),
        ("Familienworkshops am Wochenende in {city} 👨‍👩‍👧", "Mit der ganzen Familie {obj} entdecken."),
        ("Unser Liebling der Woche: {obj} ❤️", "Stimmt für euer Lieblingsobjekt ab! Unseres: {obj}."),
        ("Posiert wie unsere Statuen 📸", "Challenge des Tages: Macht die Pose von {obj} nach!"),
    ),
    "it": (
        ("I nostri depositi nascondono {obj}, mai esposto 🤫", "Segreto del conservatore: dietro questa porta c'è {obj}."),
        ("Ricordo di una visita indimenticabile: {obj} 💌", "I vostri ricordi del museo ci emozionano, ecco il nostro: {obj}."),
        ("Alzate lo sguardo! Il nostro edificio a {city} ha una storia sorprendente 🏛️", "Scale, lucernari, colonne: l'architettura del nostro museo a {city}."),
        ("{obj} ha ispirato generazioni di artisti ✨", "Cosa vi ispira nelle nostre sale? A noi, {obj}."),
        ("Laboratori per famiglie questo fine settimana a {city} 👨‍👩‍👧", "In famiglia si scopre {obj} in un altro modo."),
        ("Il nostro preferito della settimana: {obj} ❤️", "Votate la vostra opera preferita! La nostra: {obj}."),
        ("Mettetevi in posa come le nostre statue 📸", "Sfida del giorno: imitate la posa di {obj}!"),
    ),
    "pt": (
        ("As nossas reservas escondem {obj}, nunca exposto 🤫", "Segredo de conservador: atrás desta porta está {obj}."),
        ("Memória de uma visita inesquecível: {obj} 💌", "As vossas memórias do museu emocionam-nos, eis a nossa: {obj}."),
        ("Olhem para cima! O nosso edifício em {city} tem uma história surpreendente 🏛️", "Escadas, clarabóias, colunas: a arquitetura do nosso museu em {city}."),
        ("{obj} inspirou gerações de artistas ✨", "O que vos inspira nas nossas salas? A nós, {obj}."),
        ("Oficinas em família este fim de semana em {city} 👨‍👩‍👧", "Em família descobre-se {obj} de outra forma."),
        ("O nosso favorito da semana: {obj} ❤️", "Votem na vossa obra favorita! A nossa: {obj}."),
        ("Façam pose como as nossas estátuas 📸", "Desafio do dia: imitem a pose de {obj}!"),
    ),
    "nl": (
        ("Ons depot verbergt {obj}, nooit eerder getoond 🤫", "Geheim van de conservator: achter deze deur ligt {obj}."),
        ("Herinnering aan een onvergetelijk bezoek: {obj} 💌", "Jullie museumherinneringen raken ons, dit is de onze: {obj}."),
        ("Kijk omhoog! Ons gebouw in {city} heeft een verrassende geschiedenis 🏛️", "Trappen, lichtkoepels, zuilen: de architectuur van ons museum in {city}."),
        ("{obj} inspireerde generaties kunstenaars ✨", "Wat inspireert jou in onze zalen? Ons: {obj}."),
        ("Familieworkshops dit weekend in {city} 👨‍👩‍👧", "Met het hele gezin {obj} ontdekken."),
        ("Onze favoriet van de week: {obj} ❤️", "Stem op je favoriete object! Het onze: {obj}."),
        ("Poseer zoals onze beelden 📸", "Uitdaging van de dag: doe de pose van {obj} na!"),
    ),
}  # fmt: skip

# Members of the public; {museum}, {city}, {obj}.
PUBLIC_TEXTS: dict[str, tuple[str, ...]] = {
    "fr": ("Visite au {museum} aujourd'hui, incroyable !", "Mon souvenir de musée préféré : {obj} à {city}.",
           "Je découvre la semaine des musées sur les réseaux, quelle bonne idée 😍", "Qui connaît {obj} du {museum} ?"),
    "en": ("Visited the {museum} today, amazing!", "My favourite museum memory: {obj} in {city}.",
           "Loving all the museum posts this week 😍", "Has anyone seen {obj} at the {museum}?"),
    "es": ("Hoy visité el {museum}, ¡increíble!", "Mi recuerdo favorito de museo: {obj} en {city}.",
           "Me encantan los museos en las redes esta semana 😍", "¿Alguien ha visto {obj} en el {museum}?"),
    "de": ("Heute im {museum}, großartig!", "Meine liebste Museumserinnerung: {obj} in {city}.",
           "Ich liebe die Museumsbeiträge diese Woche 😍", "Wer kennt {obj} im {museum}?"),
    "it": ("Oggi al {museum}, incredibile!", "Il mio ricordo di museo preferito: {obj} a {city}.",
           "Adoro i post dei musei questa settimana 😍", "Qualcuno ha visto {obj} al {museum}?"),
    "pt": ("Hoje no {museum}, incrível!", "A minha memória de museu favorita: {obj} em {city}.",
           "Adoro os posts dos museus esta semana 😍", "Alguém viu {obj} no {museum}?"),
    "nl": ("Vandaag in het {museum}, geweldig!", "Mijn favoriete museumherinnering: {obj} in {city}.",
           "Ik geniet van alle museumberichten deze week 😍", "Wie kent {obj} in het {museum}?"),
}  # fmt: skip

REPLY_TEXTS: dict[str, tuple[str, ...]] = {
    "fr": ("Merci pour ce partage !", "Superbe 😍", "Quelle belle découverte !", "On adore !", "J'irai voir ça ce week-end."),
    "en": ("Thanks for sharing!", "Gorgeous 😍", "What a find!", "Love this!", "Going to see it this weekend."),
    "es": ("¡Gracias por compartir!", "Precioso 😍", "¡Qué descubrimiento!", "¡Nos encanta!", "Iré a verlo este fin de semana."),
    "de": ("Danke fürs Teilen!", "Wunderschön 😍", "Was für ein Fund!", "Großartig!", "Das schaue ich mir am Wochenende an."),
    "it": ("Grazie per la condivisione!", "Stupendo 😍", "Che scoperta!", "Lo adoriamo!", "Andrò a vederlo nel fine settimana."),
    "pt": ("Obrigado pela partilha!", "Lindíssimo 😍", "Que descoberta!", "Adoramos!", "Vou ver este fim de semana."),
    "nl": ("Bedankt voor het delen!", "Prachtig 😍", "Wat een vondst!", "Geweldig!", "Ga ik dit weekend bekijken."),
}  # fmt: skip

QUOTE_TEXTS: dict[str, tuple[str, ...]] = {
    "fr": ("À voir absolument 👇", "Regardez ce trésor de nos amis de {city} !", "Bel exemple de la semaine des musées."),
    "en": ("A must see 👇", "Look at this treasure from our friends in {city}!", "A lovely example of museum week."),
    "es": ("Imprescindible 👇", "¡Mirad este tesoro de nuestros amigos de {city}!", "Un bonito ejemplo de la semana de los museos."),
    "de": ("Unbedingt ansehen 👇", "Seht euch diesen Schatz unserer Freunde in {city} an!", "Ein schönes Beispiel der Museumswoche."),
    "it": ("Da non perdere 👇", "Guardate questo tesoro dei nostri amici di {city}!", "Un bell'esempio della settimana dei musei."),
    "pt": ("A não perder 👇", "Vejam este tesouro dos nossos amigos de {city}!", "Um belo exemplo da semana dos museus."),
    "nl": ("Niet te missen 👇", "Bekijk deze schat van onze vrienden in {city}!", "Een mooi voorbeeld van de museumweek."),
}  # fmt: skip

# The day before the campaign and the day after it.
TEASER_TEXTS: dict[str, str] = {
    "fr": "Demain commence la semaine des musées, préparez-vous !",
    "en": "Museum week starts tomorrow, get ready!",
    "es": "¡Mañana empieza la semana de los museos!",
    "de": "Morgen beginnt die Museumswoche, seid bereit!",
    "it": "Domani inizia la settimana dei musei, preparatevi!",
    "pt": "Amanhã começa a semana dos museus, preparem-se!",
    "nl": "Morgen begint de museumweek, maak je klaar!",
}
THANKS_TEXTS: dict[str, str] = {
    "fr": "Merci à toutes et à tous pour cette belle semaine !",
    "en": "Thank you all for a wonderful week!",
    "es": "¡Gracias a todos por esta semana tan bonita!",
    "de": "Danke an alle für diese schöne Woche!",
    "it": "Grazie a tutti per questa bellissima settimana!",
    "pt": "Obrigado a todos por esta bela semana!",
    "nl": "Bedankt allemaal voor deze mooie week!",
}

# Hashtags that are not official: topical ones per language, and look-alikes that must NOT count
# (a year suffix, a theme without its MW suffix).
TOPIC_TAGS: dict[str, tuple[str, ...]] = {
    "fr": ("patrimoine", "musée", "art", "histoire", "Culture", "expo"),
    "en": ("museums", "art", "history", "heritage", "GLAM", "exhibition"),
    "es": ("museos", "arte", "historia", "patrimonio", "cultura", "exposición"),
    "de": ("Museum", "Kunst", "Geschichte", "Kulturerbe", "Ausstellung", "Kultur"),
    "it": ("musei", "arte", "storia", "patrimonio", "cultura", "mostra"),
    "pt": ("museus", "arte", "história", "patrimônio", "cultura", "exposição"),
    "nl": ("musea", "kunst", "geschiedenis", "erfgoed", "cultuur", "tentoonstelling"),
}
LOOKALIKE_TAGS = ("MuseumWeek{year}", "Secrets", "MW", "MuseumsWeek")
# A famous museum written with and without its accent (one key, several displays).
LOUVRE_TAGS = ("MuséeDuLouvre", "MuseeDuLouvre", "museedulouvre", "MUSÉEDULOUVRE")

# Mastodon servers that members and institutions use (Salon collects through the first).
MASTODON_SERVING = "mastodon.social"
MASTODON_HOSTS: tuple[tuple[str, float], ...] = (
    ("mastodon.social", 30),
    ("glammr.us", 20),
    ("mastodon.art", 10),
    ("piaille.fr", 8),
    ("mastodon.world", 6),
    ("mstdn.social", 6),
    ("social.coop", 4),
    ("mastodon.uno", 4),
    ("chaos.social", 4),
    ("mastodon.nl", 4),
    ("mas.to", 4),
)

# Link-heavy spam: invented domains under the reserved .example TLD.
SPAM_NAMES = (
    ("Cheap Museum Tickets", "cheap_tix"),
    ("Win A Trip Now", "win_trip"),
    ("Art Deals Daily", "artdeals"),
    ("Free Culture Pass", "freepass"),
    ("Best Replica Paintings", "replica_art"),
    ("Crypto Art Gains", "cryptoart"),
    ("Travel Hacks 24/7", "travelhacks"),
    ("Museum Merch Outlet", "merch_outlet"),
)
SPAM_DOMAINS = ("cheap-tickets.example", "win-a-trip.example", "art-deals.example", "free-pass.example")
SPAM_TEXTS = (
    "🔥 Cheap tickets for ALL museums!!! Click now",
    "Win a free trip to Paris 🎁 limited offer",
    "Best replica paintings 90% off, ship worldwide",
    "Your free culture pass is waiting, claim it",
)
SPAM_TAGS = ("art", "travel", "deal", "free", "win", "giveaway", "museum", "tickets", "sale", "promo")

# Accounts outside the campaign whose posts are quoted or replied to (seen only as context).
EXTERNAL_ACCOUNTS = (
    ("Culture News", "culture_news", "en"),
    ("Le Journal des Arts", "journal_arts", "fr"),
    ("Noticias de Cultura", "noticias_cult", "es"),
    ("Kulturnachrichten", "kultur_news", "de"),
    ("Notizie d'Arte", "notizie_arte", "it"),
)
EXTERNAL_TEXTS: dict[str, tuple[str, ...]] = {
    "en": ("Museum attendance hits a record high this spring", "Ten exhibitions not to miss this year"),
    "fr": ("La fréquentation des musées bat des records ce printemps", "Dix expositions à ne pas manquer cette année"),
    "es": ("Los museos baten récords de visitantes esta primavera", "Diez exposiciones imprescindibles este año"),
    "de": ("Museen melden Besucherrekord im Frühjahr", "Zehn Ausstellungen, die man nicht verpassen darf"),
    "it": ("I musei registrano un record di visitatori in primavera", "Dieci mostre da non perdere quest'anno"),
}  # fmt: skip

# Image descriptions (alt text) attached to photos.
ALT_TEXTS: dict[str, tuple[str, ...]] = {
    "fr": ("Vue d'une salle d'exposition", "Détail d'une œuvre", "Façade du musée au soleil"),
    "en": ("View of a gallery", "Detail of an artwork", "The museum's façade in the sun"),
    "es": ("Vista de una sala", "Detalle de una obra", "Fachada del museo al sol"),
    "de": ("Blick in einen Ausstellungssaal", "Detail eines Kunstwerks", "Die Museumsfassade in der Sonne"),
    "it": ("Veduta di una sala", "Dettaglio di un'opera", "Facciata del museo al sole"),
    "pt": ("Vista de uma sala", "Detalhe de uma obra", "Fachada do museu ao sol"),
    "nl": ("Zicht op een zaal", "Detail van een kunstwerk", "De gevel van het museum in de zon"),
}  # fmt: skip
